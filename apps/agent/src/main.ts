import { hostname } from 'node:os';
import type Docker from 'dockerode';
import pino from 'pino';
import { loadAgentCommand, UsageError, type AgentCommand } from './config';
import { createAgentConnection } from './connection/agent-connection';
import { NodeRejectedError, registerWithControlPlane } from './connection/control-plane-api';
import { createDockerClient } from './docker/docker-client';
import { collectFacts, dockerFacts } from './facts/collect-facts';
import { collectUsage } from './facts/collect-usage';
import { ensureTenantFirewall } from './runtime/host-firewall';
import { createNodeRouting } from './routing/node-routing';
import { createRuntime } from './runtime/runtime';
import { createDesiredStateStore } from './state/desired-state-store';
import { loadIdentity, saveIdentity, identityFile } from './state/node-identity';
import { createLogStreamer } from './logs/stream-logs-task';
import { createImageGc } from './gc/image-gc';
import { createBuildTask } from './build/build-task';
import { noopTask } from './tasks/noop-task';
import { createTaskJournal } from './tasks/task-journal';
import { createTaskRunner } from './tasks/task-runner';
import { AGENT_VERSION } from './version';

/** Exit codes: 0 done, 1 failure, 2 usage, 78 (EX_CONFIG) revoked/unregistered, so systemd does not restart it. */
const EXIT_REVOKED = 78;

async function register(cmd: Extract<AgentCommand, { command: 'register' }>, docker: Docker, log: pino.Logger): Promise<number> {
  const existing = await loadIdentity(cmd.stateDir);
  if (existing) {
    log.error(`this state dir already holds node ${existing.nodeId} (${identityFile(cmd.stateDir)}); remove it to register again`);
    return 1;
  }
  const facts = await collectFacts(docker);
  try {
    const node = await registerWithControlPlane(cmd.controlPlane, {
      token: cmd.token,
      hostname: sanitizeHostname(hostname()),
      ...(cmd.name ? { name: cmd.name } : {}),
      agentVersion: AGENT_VERSION,
      facts,
    });
    await saveIdentity(cmd.stateDir, { controlPlane: cmd.controlPlane, nodeId: node.nodeId, credential: node.credential, registeredAt: new Date().toISOString() });
    log.info({ nodeId: node.nodeId, stateDir: cmd.stateDir }, 'registered');
    return 0;
  } catch (e) {
    if (e instanceof NodeRejectedError) {
      log.error({ code: e.code }, `registration refused: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

function sanitizeHostname(h: string): string {
  const cleaned = h.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
  return cleaned || 'node';
}

async function run(cmd: Extract<AgentCommand, { command: 'run' }>, docker: Docker, log: pino.Logger): Promise<number> {
  const identity = await loadIdentity(cmd.stateDir);
  if (!identity) {
    log.error(`no node identity in ${cmd.stateDir}: run "karvon-agent register" first`);
    return EXIT_REVOKED;
  }
  const engine = await dockerFacts(docker);
  if (!engine) log.warn('no Docker engine answers; the node reports no engine until one does');
  const dataRoot = engine?.dataRoot ?? '/';
  const desired = createDesiredStateStore(cmd.stateDir);
  await desired.load();
  // Set once the connection exists (it is created below, after the runtime it reports on).
  let reportSoon = (): void => undefined;
  const routing = createNodeRouting({ stateDir: cmd.stateDir, proxyDir: cmd.proxyDir, challengePort: cmd.challengePort, logger: log });
  const runtime = createRuntime({
    docker,
    nodeId: identity.nodeId,
    stateDir: cmd.stateDir,
    advertiseAddr: cmd.advertiseAddr ?? '127.0.0.1',
    portRange: cmd.portRange,
    healthDeadlineMs: cmd.healthDeadlineMs,
    drainMs: cmd.drainMs,
    logger: log,
    // Rollouts, deploy results and the other nodes' routes wait for the control plane to hear of
    // a change; this node's routes take its own healthy replicas at once.
    onStatusChange: () => {
      reportSoon();
      void routing.setLocal(runtime.statuses());
    },
  });
  await runtime.load();
  if (cmd.tenantFirewall) {
    await ensureTenantFirewall().then(
      (result) => log.info({ result }, 'tenant firewall rule in place'),
      (err: Error) => log.warn({ err: err.message }, 'cannot install the tenant firewall rule: tenant containers can open connections to host ports'),
    );
  }
  // Until this session's first desired state arrives the runtime only observes: running containers
  // keep running (re-adopted, not restarted), nothing is started, created or removed. The state on
  // disk may be stale — while this node was away the control plane may have moved its allocations
  // elsewhere — and acting on it would run them twice.
  runtime.start();
  await routing.start();
  if (desired.current) await routing.apply(desired.current);
  // The runner and the log streamer send through the connection, which is created just below.
  const logStreamer = createLogStreamer({
    docker,
    nodeId: identity.nodeId,
    logger: log,
    send: (frame) => connection.send(frame),
    bufferedAmount: () => connection.bufferedAmount(),
  });
  const runner = createTaskRunner({
    journal: createTaskJournal(cmd.stateDir),
    handlers: {
      noop: noopTask,
      'stream-logs': logStreamer.handler,
      gc: createImageGc({ docker, nodeId: identity.nodeId, logger: log }).handler,
      'issue-challenge': routing.issueChallenge,
      build: createBuildTask({ docker, nodeId: identity.nodeId, buildDir: cmd.buildDir, gitAllowedHosts: cmd.gitAllowedHosts, gitCaFile: cmd.gitCaFile }),
    },
    logger: log,
    send: (frame) => connection.send(frame),
  });
  const connection = createAgentConnection({
    controlPlane: identity.controlPlane,
    nodeId: identity.nodeId,
    credential: identity.credential,
    agentVersion: AGENT_VERSION,
    logger: log,
    facts: () => collectFacts(docker),
    usage: () => collectUsage(docker, dataRoot),
    appliedGeneration: () => desired.generation,
    allocations: () => runtime.report(),
    onDesiredState: async (state) => {
      if (state.generation < desired.generation) return;
      // The runtime takes it at once, and its pass observes the engine while the state is written:
      // the ack waits for the write, and a restarted agent never acts on the state on disk (it
      // waits for its session's first desired state, above), so acting first risks nothing.
      runtime.setDesired(state.allocations);
      await desired.save(state);
      await routing.apply(state);
      log.info({ generation: state.generation, allocations: state.allocations.length }, 'desired state recorded');
    },
    onTask: (task) => runner.handle(task),
    onLogCredit: (taskId, upToSeq) => logStreamer.credit(taskId, upToSeq),
    onTaskCancel: (taskId) => runner.cancel(taskId),
    onSessionEnd: () => logStreamer.stopAll('session-lost'),
  });
  reportSoon = () => connection.reportSoon();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'stopping');
      runner.stop();
      connection.stop();
    });
  }
  const end = await connection.run();
  // Containers keep running: a stopped agent leaves tenants serving.
  await runtime.stop();
  await routing.stop();
  return end === 'stopped' ? 0 : EXIT_REVOKED;
}

async function main(): Promise<void> {
  let cmd: Readonly<AgentCommand>;
  try {
    cmd = loadAgentCommand(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(e.message);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
  const log = pino({ name: 'karvon-agent', level: cmd.logLevel, redact: ['credential', 'token', '*.credential', '*.token'] });
  const docker = createDockerClient(cmd.dockerHost);
  process.exitCode = cmd.command === 'register' ? await register(cmd, docker, log) : await run(cmd, docker, log);
}

await main();
