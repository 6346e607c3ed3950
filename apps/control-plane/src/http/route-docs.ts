// Every route's documentation, in one list: the OpenAPI document is built from it, and
// openapi.test.ts fails when a registered route has no entry here (or an entry has no route).
import { z } from 'zod';
import type { RouteDoc } from './openapi';
import { adminNodeRouteDocs } from './routes/admin-nodes';
import { agentAuthRouteDocs } from './routes/agent-auth';
import { agentReleaseRouteDocs } from './routes/agent-release';
import { apiTokenRouteDocs } from './routes/api-tokens';
import { authRouteDocs } from './routes/auth';
import { healthRouteDocs } from './routes/health';
import { planRouteDocs } from './routes/plans';
import { regionRouteDocs } from './routes/regions';
import { runtimeRouteDocs } from './routes/runtimes';
import { projectRouteDocs } from './routes/projects';
import { adminUserRouteDocs } from './routes/admin-users';
import { appRouteDocs } from './routes/apps';
import { deployRouteDocs } from './routes/deploys';
import { appRuntimeRouteDocs } from './routes/app-runtime';
import { appWebhookRouteDocs } from './routes/app-webhook';
import { deployKeyRouteDocs } from '../apps/deploy-key-routes';
import { webhookRouteDocs } from './routes/webhooks';
import { domainRouteDocs } from './routes/domains';
import { billingRouteDocs } from './routes/billing';
import { adminBillingRouteDocs } from './routes/admin-billing';
import { adminAuditRouteDocs } from './routes/admin-audit';
import { notificationRouteDocs } from './routes/notifications';

/** The API's version in the document; bump with contract changes. */
export const API_VERSION = '0.1.0';

const openApiRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    auth: 'public',
    responses: { 200: { description: 'OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) } },
  },
];

export const routeDocs: readonly RouteDoc[] = [
  ...healthRouteDocs,
  ...openApiRouteDocs,
  ...authRouteDocs,
  ...apiTokenRouteDocs,
  ...regionRouteDocs,
  ...planRouteDocs,
  ...runtimeRouteDocs,
  ...adminUserRouteDocs,
  ...projectRouteDocs,
  ...appRouteDocs,
  ...deployRouteDocs,
  ...appRuntimeRouteDocs,
  ...appWebhookRouteDocs,
  ...deployKeyRouteDocs,
  ...domainRouteDocs,
  ...billingRouteDocs,
  ...notificationRouteDocs,
  ...adminBillingRouteDocs,
  ...adminAuditRouteDocs,
  ...webhookRouteDocs,
  ...adminNodeRouteDocs,
  ...agentAuthRouteDocs,
  ...agentReleaseRouteDocs,
];
