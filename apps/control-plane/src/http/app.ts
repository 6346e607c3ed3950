import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import type { TokenSigner } from '../auth/jwt';
import type { Sessions, UserClaims } from '../auth/sessions';
import { createPrincipalCache } from '../auth/principal-cache';
import { apiTokenOwner } from '../auth/api-tokens';
import { findUserById } from '../auth/users';
import { accessLog } from './middleware/access-log';
import { auditMutations } from './middleware/audit';
import { authenticate } from './middleware/authenticate';
import { errorHandler, notFound } from './middleware/errors';
import { limitMutations, type MutationLimiters } from './middleware/rate-limit';
import { requestId } from './middleware/request-id';
import type { AgentClaims } from '../nodes/node-credentials';
import { adminNodeRoutes, type NodeSockets } from './routes/admin-nodes';
import { agentAuthRoutes } from './routes/agent-auth';
import { agentReleaseRoutes } from './routes/agent-release';
import { apiTokenRoutes } from './routes/api-tokens';
import { regionRoutes } from './routes/regions';
import { authRoutes, type LoginLimits } from './routes/auth';
import { healthRoutes } from './routes/health';
import { planRoutes } from './routes/plans';
import { runtimeRoutes } from './routes/runtimes';
import { buildOpenApiDocument } from './openapi';
import { API_VERSION, routeDocs } from './route-docs';
import type { SecretBox } from '../secrets/secret-box';
import type { Planner } from '../planner/planner';
import type { DeployEngine } from '../deploys/deploy-engine';
import type { QuotaGate } from '../apps/quota-gate';
import { projectRoutes } from './routes/projects';
import { adminUserRoutes } from './routes/admin-users';
import { appRoutes } from './routes/apps';
import { deployRoutes } from './routes/deploys';
import { appRuntimeRoutes, type RuntimeLogSource } from './routes/app-runtime';
import { appWebhookRoutes } from './routes/app-webhook';
import { deployKeyRoutes } from '../apps/deploy-key-routes';
import { webhookRoutes } from './routes/webhooks';
import { domainRoutes, type DomainRouteDeps } from './routes/domains';
import { billingRoutes } from './routes/billing';
import { adminBillingRoutes } from './routes/admin-billing';
import { adminAuditRoutes } from './routes/admin-audit';
import { notificationRoutes } from './routes/notifications';
import type { Billing } from '../billing/billing';
import { panelRoutes } from './panel';

export const JSON_BODY_LIMIT = '1mb';

export interface HttpDeps {
  db: Db;
  logger: Logger;
  userTokens: TokenSigner<UserClaims>;
  agentTokens: TokenSigner<AgentClaims>;
  nodeSockets: NodeSockets;
  publicUrl: string;
  sessions: Sessions;
  loginLimits: LoginLimits;
  trustProxy: boolean;
  /** seals and opens tenant secrets at rest (env values, webhook secrets) */
  secrets: SecretBox;
  /** per-user budget for POST/PUT/PATCH/DELETE */
  mutationLimits: MutationLimiters;
  /** system hostnames are `<app>.<region>.<apps domain>` */
  appsDomain: string;
  planner: Planner;
  deploys: Pick<DeployEngine, 'wake'>;
  quotas: QuotaGate;
  logs: RuntimeLogSource;
  /** custom domains: the platform's names, the TXT lookup, and the certificate service's wake-up */
  domains: Omit<DomainRouteDeps, 'db'>;
  /** wallets, top-ups and the hourly charge */
  billing: Billing;
  /** KARVON_AGENT_RELEASE_DIR: the tarballs GET /agent/download serves */
  agentReleaseDir: string;
}

export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  // Query strings are parsed flat (no a[b]=c nesting): nothing from a URL becomes an object.
  app.set('query parser', 'simple');
  app.use(requestId);
  app.use(accessLog(deps.logger));
  app.use(helmet());
  app.use(healthRoutes({ db: deps.db }));
  // What a new server fetches to become a node (installCommand): no auth, no secrets.
  app.use(agentReleaseRoutes({ releaseDir: deps.agentReleaseDir, logger: deps.logger }));

  // Built once: the document only changes with the code.
  const openApiJson = JSON.stringify(buildOpenApiDocument(routeDocs, { version: API_VERSION }));
  const api = express.Router();
  api.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApiJson);
  });
  api.use(express.json({ limit: JSON_BODY_LIMIT, strict: true, type: ['application/json', 'application/*+json'] }));
  // Audit first: a mutating call refused for its token is still recorded.
  api.use(auditMutations({ db: deps.db, logger: deps.logger }));
  // Agents authenticate with their own credentials (node credential, registration token).
  api.use(agentAuthRoutes({ db: deps.db, agentTokens: deps.agentTokens }));
  // Who is behind a token, remembered briefly (auth/principal-cache); revocations here drop it at once.
  const principals = createPrincipalCache({ user: (id) => findUserById(deps.db, id), apiToken: (hash) => apiTokenOwner(deps.db, hash) });
  api.use(authenticate({ principals, userTokens: deps.userTokens }));
  api.use(limitMutations(deps.mutationLimits));
  const wakeDeploys = () => deps.deploys.wake();
  // The customer's busiest routes first. No two routers share a path pattern, so the order only
  // sets how many layers a request walks before its route.
  api.use(projectRoutes({ db: deps.db, quotas: deps.quotas }));
  api.use(appRoutes({ db: deps.db, planner: deps.planner, wakeDeploys, appsDomain: deps.appsDomain, quotas: deps.quotas, secrets: deps.secrets }));
  api.use(appRuntimeRoutes({ db: deps.db, secrets: deps.secrets, logs: deps.logs, wakeDeploys }));
  api.use(authRoutes({ db: deps.db, sessions: deps.sessions, loginLimits: deps.loginLimits }));
  api.use(apiTokenRoutes({ db: deps.db, principals }));
  api.use(regionRoutes({ db: deps.db }));
  api.use(planRoutes({ db: deps.db }));
  api.use(runtimeRoutes({ db: deps.db }));
  api.use(adminUserRoutes({ db: deps.db }));
  api.use(deployRoutes({ db: deps.db, wakeDeploys }));
  api.use(appWebhookRoutes({ db: deps.db, secrets: deps.secrets, publicUrl: deps.publicUrl }));
  api.use(deployKeyRoutes({ db: deps.db, secrets: deps.secrets }));
  api.use(domainRoutes({ db: deps.db, ...deps.domains }));
  api.use(billingRoutes({ db: deps.db, billing: deps.billing }));
  api.use(notificationRoutes({ db: deps.db }));
  api.use(adminBillingRoutes({ billing: deps.billing }));
  api.use(adminAuditRoutes({ db: deps.db }));
  api.use(adminNodeRoutes({ db: deps.db, publicUrl: deps.publicUrl, sockets: deps.nodeSockets }));
  app.use('/api/v1', api);
  // Git push hooks: outside /api/v1, so their bodies reach the signature check raw (not JSON-parsed).
  app.use(webhookRoutes({ db: deps.db, secrets: deps.secrets, logger: deps.logger, wakeDeploys }));

  // The web panel (apps/panel/dist) at /, with index.html for the panel's own paths.
  app.use(panelRoutes());
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
