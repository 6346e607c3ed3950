import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ControlPlaneConfig } from './config';
import { connectDatabase, type Db } from './db/connect';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres';
import { migrateToLatest } from './db/migrate';
import { createTokenSigner } from './auth/jwt';
import { deriveKey, loadMasterKey } from './auth/master-key';
import { createRateLimiter } from './auth/rate-limiter';
import { createSessions, type UserClaims } from './auth/sessions';
import { ensureAdmin } from './auth/users';
import { createHttpApp } from './http/app';
import { createMutationLimiters } from './http/middleware/rate-limit';
import { secretBoxFromMasterKeys } from './secrets/secret-box';
import { createAgentHub, type AgentHub } from './hub/agent-hub';
import { createLogStreams, withLogStreams, type LogStreamsService } from './logs/log-streams';
import { createDeployEngine, type DeployEngine } from './deploys/deploy-engine';
import { createBuildLogWriter, withBuildLogs } from './builds/build-log-writer';
import { createQuotaGate } from './apps/quota-gate';
import { envVarAad } from './secrets/env-vars';
import { openBuildTaskSecrets } from './builds/build-task-secrets';
import { LiveNodes } from './hub/live-nodes';
import { createLivenessWriter, type LivenessWriter } from './hub/liveness-writer';
import { withBuildResults } from './builds/build-results';
import { createMetricsPruner } from './jobs/metrics-pruner';
import { createImageGcJob } from './jobs/image-gc-job';
import { createDispatcher, type Dispatcher } from './dispatch/dispatcher';
import { listenForNodeWork } from './dispatch/node-wakeups';
import { createPlanner, type Planner } from './planner/planner';
import type { AgentClaims } from './nodes/node-credentials';
import { setUpCertificates, type CertificateTuning } from './certificates/setup';
import type { CertificateService } from './certificates/certificate-service';
import { createBilling } from './billing/billing';
import { createBillingJob } from './jobs/billing-job';

export interface RunningControlPlane {
  url: string;
  port: number;
  db: Db;
  hub: AgentHub;
  liveness: LivenessWriter;
  planner: Planner;
  dispatcher: Dispatcher;
  /** runtime logs pulled from the agents whose sockets this process holds */
  logs: LogStreamsService;
  /** moves deploys forward in the background */
  deploys: DeployEngine;
  /** orders and renews certificates; undefined without KARVON_ACME_DIRECTORY_URL */
  certificates: CertificateService | undefined;
  /** graceful: stops accepting, lets requests in flight finish (bounded), closes the database */
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  logger: Logger;
  /** login rate limits; tests shrink them */
  loginLimits?: { perIp: { limit: number; windowMs: number }; perAccount: { limit: number; windowMs: number } };
  /** how often dispatch re-checks connected nodes for missed work (default 1 s); tests stretch it */
  dispatchPollMs?: number;
  /** the certificate service's clock, renewal threshold, backoff and period; tests shorten them */
  certificates?: CertificateTuning;
  /** billing's clock, and whether the hourly job runs (tests drive hours through the admin run) */
  billing?: { now?: () => Date; scheduled?: boolean };
}

const DEFAULT_LOGIN_LIMITS = {
  perIp: { limit: 30, windowMs: 60_000 },
  perAccount: { limit: 10, windowMs: 5 * 60_000 },
};

export async function startControlPlane(config: Readonly<ControlPlaneConfig>, opts: ControlPlaneOptions): Promise<RunningControlPlane> {
  const { logger } = opts;
  // Bind the port before anything slow: a taken port fails in milliseconds, not after the
  // database has started. Until the app is ready every request gets a 503.
  let handler: RequestListener = notReady;
  const server = createServer((req, res) => handler(req, res));
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  let embedded: EmbeddedDatabase | undefined;
  let db: Db | undefined;
  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const pgLog = logger.child({ component: 'postgres' });
      embedded = await startEmbeddedPostgres({
        dataDir: config.dataDir,
        port: config.embeddedPostgresPort,
        log: (line) => pgLog.debug(line),
      });
      databaseUrl = embedded.url;
      logger.info({ dataDir: config.dataDir, port: config.embeddedPostgresPort }, 'embedded PostgreSQL started');
    }
    const database = connectDatabase(databaseUrl);
    db = database;
    const applied = await migrateToLatest(database);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    const masterKey = await loadMasterKey(config.masterKey, config.dataDir);
    const userTokens = createTokenSigner<UserClaims>({
      key: deriveKey(masterKey, 'jwt-user'),
      issuer: config.publicUrl,
      audience: 'user',
      ttlSeconds: config.accessTokenSeconds,
    });
    const agentTokens = createTokenSigner<AgentClaims>({
      key: deriveKey(masterKey, 'jwt-agent'),
      issuer: config.publicUrl,
      audience: 'agent',
      ttlSeconds: config.agentTokenSeconds,
    });
    if (config.admin) await ensureAdmin(database, config.admin);
    const live = new LiveNodes(config.degradedPercent / 100);
    const liveness = createLivenessWriter({
      db: database,
      live,
      logger: logger.child({ component: 'liveness' }),
      timings: { heartbeatSeconds: config.heartbeatSeconds, graceSeconds: config.nodeGraceSeconds },
    });
    liveness.start();
    const pruner = createMetricsPruner({ db: database, logger });
    pruner.start();
    const imageGc = createImageGcJob({ db: database, logger: logger.child({ component: 'image-gc' }) });
    imageGc.start();
    const hub = createAgentHub({
      db: database,
      logger: logger.child({ component: 'hub' }),
      agentTokens,
      live,
      heartbeatSeconds: config.heartbeatSeconds,
    });
    const secrets = secretBoxFromMasterKeys(
      masterKey,
      config.previousMasterKeys.map((k) => Buffer.from(k, 'base64')),
    );
    const dispatcher = createDispatcher({
      db: database,
      logger: logger.child({ component: 'dispatch' }),
      sessions: hub,
      desiredState: {
        // Env values stay sealed in the database; they are opened only into a node's desired state.
        openEnv: (appId, key, sealed) => secrets.open(sealed, envVarAad(appId, key)),
        routing: { appsDomain: config.appsDomain, secrets },
      },
      openTask: (task) => openBuildTaskSecrets(task, secrets, (err, taskId) => logger.error({ err, taskId }, 'a build task credential cannot be opened; sent without it')),
      ...(opts.dispatchPollMs ? { pollMs: opts.dispatchPollMs } : {}),
    });
    const logStreams = createLogStreams({ db: database, logger: logger.child({ component: 'logs' }), sessions: hub });
    const buildLogs = createBuildLogWriter({ db: database, logger: logger.child({ component: 'build-logs' }) });
    buildLogs.start();
    const wakeups = listenForNodeWork({ url: databaseUrl, logger: logger.child({ component: 'wakeups' }), onWake: (ids, kind) => dispatcher.wake(ids, kind) });
    const planner = createPlanner({ db: database, rng: Math.random });
    const deploys = createDeployEngine({
      db: database,
      planner,
      logger: logger.child({ component: 'deploys' }),
      rolloutTimeoutMs: config.rolloutTimeoutSeconds * 1000,
    });
    deploys.start();
    // A build's result and a replica's new state move deploys on at once, not at the next poll.
    hub.setEvents(withBuildResults(withBuildLogs(withLogStreams(dispatcher, logStreams), buildLogs), () => void dispatcher.idle().then(() => deploys.wake(), () => deploys.wake())));
    liveness.onStateChanges(() => deploys.wake());
    const billing = createBilling({
      db: database,
      apps: { db: database, planner, wakeDeploys: () => deploys.wake() },
      graceMs: config.billingGraceHours * 3_600_000,
      logger: logger.child({ component: 'billing' }),
      ...(opts.billing?.now ? { now: opts.billing.now } : {}),
    });
    const billingJob = createBillingJob({ db: database, billing, logger: logger.child({ component: 'billing-job' }) });
    if (opts.billing?.scheduled !== false) billingJob.start();
    const certificates = setUpCertificates(config, { db: database, secrets, logger, ...(opts.certificates ? { tuning: opts.certificates } : {}) });
    certificates.start();
    server.on('upgrade', (req, socket, head) => {
      if (!hub.handleUpgrade(req, socket, head)) socket.destroy();
    });
    const limits = opts.loginLimits ?? DEFAULT_LOGIN_LIMITS;
    handler = createHttpApp({
      db: database,
      logger,
      userTokens,
      agentTokens,
      nodeSockets: hub,
      publicUrl: config.publicUrl,
      sessions: createSessions({ db: database, signer: userTokens, refreshTokenDays: config.refreshTokenDays }),
      loginLimits: { perIp: createRateLimiter(limits.perIp), perAccount: createRateLimiter(limits.perAccount) },
      trustProxy: config.trustProxy,
      secrets,
      appsDomain: config.appsDomain,
      planner,
      deploys,
      quotas: createQuotaGate(database),
      logs: logStreams,
      mutationLimits: createMutationLimiters(config.mutationLimits),
      domains: certificates.domains,
      billing,
      agentReleaseDir: config.agentReleaseDir,
    });
    const url = `http://127.0.0.1:${port}`;
    logger.info({ url, publicUrl: config.publicUrl }, 'control plane listening');

    let stopping: Promise<void> | undefined;
    return {
      url,
      port,
      db: database,
      hub,
      liveness,
      planner,
      dispatcher,
      logs: logStreams,
      deploys,
      certificates: certificates.service,
      stop: () =>
        (stopping ??= (async () => {
          logger.info('shutting down');
          // Stop accepting first: agents whose sockets close below would otherwise reconnect to
          // this dying process at once and crowd its pool during the final flush.
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          pruner.stop();
          imageGc.stop();
          await billingJob.stop();
          await deploys.stop();
          await certificates.stop();
          await buildLogs.stop();
          await wakeups.stop();
          await hub.stop();
          await dispatcher.stop();
          await liveness.stop();
          await liveness.flush().catch(() => undefined);
          await shutdown(server, closed, database, embedded, logger);
        })()),
    };
  } catch (e) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await db?.destroy();
    await embedded?.stop();
    throw e;
  }
}

const notReady: RequestListener = (_req, res) => {
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
  res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'starting' } }));
};

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function shutdown(server: Server, closed: Promise<void>, db: Db, embedded: EmbeddedDatabase | undefined, logger: Logger): Promise<void> {
  server.closeIdleConnections();
  // Requests in flight get a bounded time to finish; then their sockets are cut.
  const force = setTimeout(() => server.closeAllConnections(), 5_000);
  await closed;
  clearTimeout(force);
  await db.destroy();
  await embedded?.stop();
  logger.info('stopped');
}
