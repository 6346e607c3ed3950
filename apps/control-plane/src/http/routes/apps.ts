import { Router } from 'express';
import { z } from 'zod';
import { healthCheckSchema } from '@karvon/protocol';
import { loadOwned } from '../../access/load-owned';
import { appSourceView, createAppBody, idParams, patchAppBody, resourceId, scaleBody } from '../../apps/app-schemas';
import type { AppRow } from '../../apps/app-row';
import { appView } from '../../apps/app-view';
import { createApp, listApps, loadAppView, patchApp, requireActivePlan } from '../../apps/apps';
import { scaleApp, startApp, stopApp, type AppOperationDeps } from '../../apps/app-operations';
import type { QuotaGate } from '../../apps/quota-gate';
import { startAppDeletion } from '../../deploys/app-deletion';
import { assertFunds } from '../../billing/funds-guard';
import { DomainError } from '../../domain/errors';
import type { SecretBox } from '../../secrets/secret-box';
import { listOf, type RouteDoc } from '../openapi';
import { pageQuery } from '../pagination';
import { requirePrincipal } from '../principal';
import { parseInput } from '../validate';

export const appSchema = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  status: z.enum(['created', 'deploying', 'running', 'failed', 'stopped', 'deleting', 'deleted']),
  hostname: z.string(),
  region: z.string(),
  planId: z.string(),
  replicas: z.int(),
  port: z.int(),
  healthCheck: healthCheckSchema,
  source: appSourceView,
  currentRelease: z.int().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const listQuery = pageQuery.extend({ projectId: resourceId.optional() });

export interface AppRouteDeps extends AppOperationDeps {
  appsDomain: string;
  secrets: SecretBox;
  quotas: QuotaGate;
}

export function appRoutes(deps: AppRouteDeps): Router {
  const r = Router();
  const { db } = deps;
  const owned = (req: Parameters<typeof requirePrincipal>[0]) =>
    loadOwned<AppRow & { current_release_number: number | null }>(db, requirePrincipal(req), 'app', parseInput(idParams, req.params, 'params').id);

  r.post('/apps', async (req, res) => {
    const p = requirePrincipal(req);
    const body = parseInput(createAppBody, req.body);
    const plan = await requireActivePlan(db, body.planId);
    await deps.quotas.check(p.userId, { apps: 1, replicas: body.replicas, cpuMillicores: plan.cpuMillicores * body.replicas, memoryMb: plan.memoryMb * body.replicas });
    await assertFunds(db, p.userId);
    const app = await createApp(db, deps.secrets, p, body, deps.appsDomain);
    res.locals.audit = { action: 'app.create', target: `app:${app.id}` };
    res.status(201).json(app);
  });
  r.get('/apps', async (req, res) => {
    const p = requirePrincipal(req);
    res.json(await listApps(db, p, parseInput(listQuery, req.query, 'query'), deps.appsDomain));
  });
  r.get('/apps/:id', async (req, res) => {
    // The owned row carries the view's columns: one query, not a check and then a reload.
    res.json(appView(await owned(req), deps.appsDomain));
  });
  r.patch('/apps/:id', async (req, res) => {
    const app = await owned(req);
    const body = parseInput(patchAppBody, req.body);
    res.locals.audit = { action: 'app.update', target: `app:${app.id}`, details: { fields: Object.keys(body) } };
    if (body.planId !== undefined && body.planId !== app.plan_id) {
      const [next, current] = [await requireActivePlan(db, body.planId), await requireActivePlan(db, app.plan_id).catch(() => undefined)];
      await deps.quotas.check(app.owner_id, {
        cpuMillicores: (next.cpuMillicores - (current?.cpuMillicores ?? 0)) * app.replicas,
        memoryMb: (next.memoryMb - (current?.memoryMb ?? 0)) * app.replicas,
      });
    }
    res.json(await patchApp(db, deps.secrets, app, body, deps.appsDomain));
  });
  r.delete('/apps/:id', async (req, res) => {
    const app = await owned(req);
    res.locals.audit = { action: 'app.delete', target: `app:${app.id}` };
    await startAppDeletion(db, app.id);
    deps.wakeDeploys();
    res.status(202).json(await loadAppView(db, app.id, deps.appsDomain));
  });
  r.post('/apps/:id/scale', async (req, res) => {
    const app = await owned(req);
    const { replicas } = parseInput(scaleBody, req.body);
    res.locals.audit = { action: 'app.scale', target: `app:${app.id}`, details: { from: app.replicas, to: replicas } };
    refuseWhileDeleting(app);
    const plan = await requireActivePlan(db, app.plan_id);
    const delta = replicas - app.replicas;
    await deps.quotas.check(app.owner_id, { replicas, cpuMillicores: plan.cpuMillicores * delta, memoryMb: plan.memoryMb * delta });
    if (delta > 0) await assertFunds(db, app.owner_id);
    await scaleApp(deps, app, replicas);
    res.status(202).json(await loadAppView(db, app.id, deps.appsDomain));
  });
  r.post('/apps/:id/stop', async (req, res) => {
    const app = await owned(req);
    res.locals.audit = { action: 'app.stop', target: `app:${app.id}` };
    refuseWhileDeleting(app);
    await stopApp(deps, app);
    res.status(202).json(await loadAppView(db, app.id, deps.appsDomain));
  });
  r.post('/apps/:id/start', async (req, res) => {
    const app = await owned(req);
    res.locals.audit = { action: 'app.start', target: `app:${app.id}` };
    refuseWhileDeleting(app);
    await assertFunds(db, app.owner_id);
    await startApp(deps, app);
    res.status(202).json(await loadAppView(db, app.id, deps.appsDomain));
  });
  return r;
}

function refuseWhileDeleting(app: AppRow): void {
  if (app.status === 'deleting') throw new DomainError('CONFLICT', 'the app is being deleted');
}

const params = idParams;
const notFound = { description: 'not yours or no such app (NOT_FOUND)' };
export const appRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/apps',
    summary: 'Create an app in one of your projects',
    auth: 'user',
    body: createAppBody,
    responses: { 201: { description: 'created', schema: appSchema }, 404: { description: 'projectId is not yours (NOT_FOUND)' }, 409: { description: 'name taken in the region (CONFLICT)' }, 422: { description: 'QUOTA_EXCEEDED' } },
  },
  { method: 'get', path: '/apps', summary: 'Your apps, newest first', auth: 'user', query: listQuery, responses: { 200: { description: 'apps', schema: listOf(appSchema) } } },
  { method: 'get', path: '/apps/:id', summary: 'One app', auth: 'user', params, responses: { 200: { description: 'the app', schema: appSchema }, 404: notFound } },
  {
    method: 'patch',
    path: '/apps/:id',
    summary: 'Change plan, source, port or health check (effective with the next deploy)',
    auth: 'user',
    params,
    body: patchAppBody,
    responses: { 200: { description: 'the app', schema: appSchema }, 404: notFound },
  },
  {
    method: 'delete',
    path: '/apps/:id',
    summary: 'Delete the app: containers, routes and secrets are removed in the background',
    auth: 'user',
    params,
    responses: { 202: { description: 'deleting; poll the app until it is gone', schema: appSchema }, 404: notFound },
  },
  {
    method: 'post',
    path: '/apps/:id/scale',
    summary: 'Set the replica count',
    auth: 'user',
    params,
    body: scaleBody,
    responses: { 202: { description: 'the app', schema: appSchema }, 404: notFound, 409: { description: 'no capacity, with the scheduler reasons (CONFLICT)' }, 422: { description: 'QUOTA_EXCEEDED' } },
  },
  { method: 'post', path: '/apps/:id/stop', summary: 'Stop every replica (containers kept)', auth: 'user', params, responses: { 202: { description: 'the app', schema: appSchema }, 404: notFound } },
  { method: 'post', path: '/apps/:id/start', summary: 'Start the app again', auth: 'user', params, responses: { 202: { description: 'the app', schema: appSchema }, 404: notFound } },
];
