import { Router, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { loadOwned } from '../../access/load-owned';
import { deployBody, idParams, resourceId, rollbackBody } from '../../apps/app-schemas';
import type { AppRow } from '../../apps/app-row';
import { createDeploy, getDeployView, listDeploys, type DeployRequest } from '../../deploys/deploys';
import { deployView, type DeployRow, type DeployView } from '../../deploys/deploy-row';
import { DEPLOY_ERROR_CODES } from '../../deploys/rollout-decision';
import { listReleases } from '../../releases/releases';
import { assertFunds } from '../../billing/funds-guard';
import { DomainError } from '../../domain/errors';
import { listOf, type RouteDoc } from '../openapi';
import { decodeCursor, encodeCursor, pageQuery } from '../pagination';
import { requirePrincipal } from '../principal';
import { parseInput } from '../validate';

export const deploySchema = z.object({
  id: z.string(),
  appId: z.string(),
  kind: z.enum(['deploy', 'rollback', 'restart', 'config']),
  status: z.enum(['queued', 'building', 'releasing', 'succeeded', 'failed', 'cancelled']),
  commitSha: z.string().optional(),
  releaseNumber: z.int().optional(),
  error: z.object({ code: z.enum(DEPLOY_ERROR_CODES), message: z.string(), details: z.unknown().optional() }).optional(),
  phases: z.array(z.object({ name: z.string(), startedAt: z.string(), endedAt: z.string().nullable() })),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
const releaseSchema = z.object({ number: z.int(), image: z.string(), commitSha: z.string().nullable(), createdAt: z.string(), current: z.boolean() });
const deployParams = z.object({ id: resourceId });
const releasesQuery = z.object({
  limit: pageQuery.shape.limit,
  cursor: z.string().regex(/^[1-9][0-9]{0,9}$/, 'a cursor from a previous page').optional(),
});
const logsQuery = z.object({ follow: z.enum(['0', '1', 'true', 'false']).optional() });

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

export function deployRoutes(deps: { db: Db; wakeDeploys(): void }): Router {
  const r = Router();
  const { db } = deps;
  const ownedApp = (req: Parameters<typeof requirePrincipal>[0]) => loadOwned<AppRow>(db, requirePrincipal(req), 'app', parseInput(idParams, req.params, 'params').id);

  async function queue(res: Response, app: AppRow, request: DeployRequest, actor: string): Promise<void> {
    if (app.status === 'deleting') throw new DomainError('CONFLICT', 'the app is being deleted');
    await assertFunds(db, app.owner_id);
    const deploy = await createDeploy(db, app.id, request, actor);
    if (!deploy) throw new DomainError('CONFLICT', 'nothing to roll out');
    res.locals.audit = { action: `app.${request.kind}`, target: `app:${app.id}`, details: { deployId: deploy.id } };
    deps.wakeDeploys();
    res.status(202).json(deploy);
  }

  r.post('/apps/:id/deploys', async (req, res) => {
    const app = await ownedApp(req);
    const body = parseInput(deployBody, req.body);
    // For a git app, `ref` is a branch or an exact commit.
    const sha = body.ref !== undefined && /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(body.ref) ? body.ref : undefined;
    await queue(res, app, sha ? { kind: 'deploy', commitSha: sha } : { kind: 'deploy', ref: body.ref }, requirePrincipal(req).userId);
  });
  r.post('/apps/:id/rollback', async (req, res) => {
    const app = await ownedApp(req);
    const body = parseInput(rollbackBody, req.body);
    await queue(res, app, { kind: 'rollback', release: body.release }, requirePrincipal(req).userId);
  });
  r.post('/apps/:id/restart', async (req, res) => {
    const app = await ownedApp(req);
    await queue(res, app, { kind: 'restart' }, requirePrincipal(req).userId);
  });
  r.get('/apps/:id/deploys', async (req, res) => {
    const app = await ownedApp(req);
    const page = parseInput(pageQuery, req.query, 'query');
    const rows = await listDeploys(db, app.id, { limit: page.limit, cursor: page.cursor ? decodeCursor(page.cursor) : undefined });
    const items = rows.slice(0, page.limit).map(deployView);
    const last = rows[page.limit - 1];
    res.json({ items, nextCursor: rows.length > page.limit && last ? encodeCursor({ at: last.created_at.toISOString(), id: last.id }) : null });
  });
  r.get('/apps/:id/releases', async (req, res) => {
    const app = await ownedApp(req);
    const q = parseInput(releasesQuery, req.query, 'query');
    res.json(await listReleases(db, app.id, app.current_release_id, { limit: q.limit, before: q.cursor ? Number(q.cursor) : undefined }));
  });
  r.get('/deploys/:id', async (req, res) => {
    const { id } = parseInput(deployParams, req.params, 'params');
    await loadOwned<DeployRow & { owner_id: string }>(db, requirePrincipal(req), 'deploy', id);
    res.json(await getDeployView(db, id));
  });
  r.get('/deploys/:id/logs', async (req, res) => {
    const { id } = parseInput(deployParams, req.params, 'params');
    const { follow } = parseInput(logsQuery, req.query, 'query');
    await loadOwned(db, requirePrincipal(req), 'deploy', id);
    if (follow !== '1' && follow !== 'true') {
      res.type('text/plain').send((await loadDeployLog(db, id)).lines.join('\n') + '\n');
      return;
    }
    await followDeployLog(res, () => loadDeployLog(db, id));
  });
  return r;
}

/**
 * The deploy's log: its phases, the build's output (git deploys) between `building` and what
 * follows, and the error. Each part only grows while the deploy runs, so followers append.
 */
export function deployLogLines(d: DeployView, buildLog: string): string[] {
  const lines: string[] = [];
  for (const p of d.phases) {
    lines.push(`${p.startedAt} ${p.name}`);
    if (p.name === 'building' && buildLog) lines.push(...buildLog.replace(/\n$/, '').split('\n'));
  }
  if (d.error) lines.push(`${d.finishedAt ?? ''} error ${d.error.code}: ${d.error.message}`.trim());
  return lines;
}

async function loadDeployLog(db: Db, id: string): Promise<{ view: DeployView; lines: string[] }> {
  const view = await getDeployView(db, id);
  const build = await db('deploys as d').join('builds as b', 'b.id', 'd.build_id').where('d.id', id).first<{ log: string } | undefined>('b.log');
  return { view, lines: deployLogLines(view, build?.log ?? '') };
}

/** SSE: each new log line as an event, until the deploy ends or the client goes. */
async function followDeployLog(res: Response, load: () => Promise<{ view: DeployView; lines: string[] }>): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  let sent = 0;
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  let current = await load();
  for (;;) {
    for (const line of current.lines.slice(sent)) res.write(`event: log\ndata: ${JSON.stringify({ line })}\n\n`);
    sent = Math.max(sent, current.lines.length);
    if (FINISHED.has(current.view.status) || closed) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (closed) break;
    current = await load();
  }
  if (!closed) {
    res.write(`event: end\ndata: ${JSON.stringify({ status: current.view.status })}\n\n`);
    res.end();
  }
}

const params = idParams;
const notFound = { description: 'not yours or no such app (NOT_FOUND)' };
const accepted = { description: 'queued; poll GET /deploys/:id', schema: deploySchema };
export const deployRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/apps/:id/deploys',
    summary: 'Deploy the app from its source (a new release, rolled out health-gated)',
    auth: 'user',
    params,
    body: deployBody,
    responses: { 202: accepted, 404: notFound, 409: { description: 'being deleted, or a source this control plane cannot build (CONFLICT)' } },
  },
  { method: 'get', path: '/apps/:id/deploys', summary: "The app's deploys, newest first", auth: 'user', params, query: pageQuery, responses: { 200: { description: 'deploys', schema: listOf(deploySchema) }, 404: notFound } },
  {
    method: 'get',
    path: '/apps/:id/releases',
    summary: "The app's releases, newest first",
    auth: 'user',
    params,
    query: releasesQuery,
    responses: { 200: { description: 'releases', schema: listOf(releaseSchema) }, 404: notFound },
  },
  {
    method: 'post',
    path: '/apps/:id/rollback',
    summary: 'Roll back: a new release made from an old one',
    auth: 'user',
    params,
    body: rollbackBody,
    responses: { 202: accepted, 404: { description: 'no such app or release (NOT_FOUND)' } },
  },
  { method: 'post', path: '/apps/:id/restart', summary: 'Replace every replica of the current release, without downtime', auth: 'user', params, responses: { 202: accepted, 404: notFound, 409: { description: 'never deployed (CONFLICT)' } } },
  { method: 'get', path: '/deploys/:id', summary: 'A deploy with its phases and coded error', auth: 'user', params: deployParams, responses: { 200: { description: 'the deploy', schema: deploySchema }, 404: { description: 'NOT_FOUND' } } },
  {
    method: 'get',
    path: '/deploys/:id/logs',
    summary: "The deploy's log as text; ?follow=1 streams it as Server-Sent Events until the deploy ends",
    auth: 'user',
    params: deployParams,
    query: logsQuery,
    responses: { 200: { description: 'text/plain, or text/event-stream with follow', contentType: 'text/plain' }, 404: { description: 'NOT_FOUND' } },
  },
];
