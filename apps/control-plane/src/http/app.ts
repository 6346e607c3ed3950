import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import type { TokenSigner } from '../auth/jwt';
import type { Sessions, UserClaims } from '../auth/sessions';
import { accessLog } from './middleware/access-log';
import { auditMutations } from './middleware/audit';
import { authenticate } from './middleware/authenticate';
import { errorHandler, notFound } from './middleware/errors';
import { requestId } from './middleware/request-id';
import type { AgentClaims } from '../nodes/node-credentials';
import { adminNodeRoutes, type NodeSockets } from './routes/admin-nodes';
import { agentAuthRoutes } from './routes/agent-auth';
import { apiTokenRoutes } from './routes/api-tokens';
import { regionRoutes } from './routes/regions';
import { authRoutes, type LoginLimits } from './routes/auth';
import { healthRoutes } from './routes/health';

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

  const api = express.Router();
  api.use(express.json({ limit: JSON_BODY_LIMIT, strict: true, type: ['application/json', 'application/*+json'] }));
  // Audit first: a mutating call refused for its token is still recorded.
  api.use(auditMutations({ db: deps.db, logger: deps.logger }));
  // Agents authenticate with their own credentials (node credential, registration token).
  api.use(agentAuthRoutes({ db: deps.db, agentTokens: deps.agentTokens }));
  api.use(authenticate({ db: deps.db, userTokens: deps.userTokens }));
  api.use(authRoutes({ db: deps.db, sessions: deps.sessions, loginLimits: deps.loginLimits }));
  api.use(apiTokenRoutes({ db: deps.db }));
  api.use(regionRoutes({ db: deps.db }));
  api.use(adminNodeRoutes({ db: deps.db, publicUrl: deps.publicUrl, sockets: deps.nodeSockets }));
  app.use('/api/v1', api);

  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
