// An app's live side: instances, runtime logs (SSE) and metrics; and its environment.
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { loadOwned } from '../../access/load-owned';
import { idParams } from '../../apps/app-schemas';
import type { AppRow } from '../../apps/app-row';
import { appMetrics, listInstances } from '../../apps/app-instances';
import { listEnv, patchEnv } from '../../apps/app-env';
import { deploySchema } from './deploys';
import { envPatchSchema } from '../../secrets/env-vars';
import type { SecretBox } from '../../secrets/secret-box';
import { DomainError } from '../../domain/errors';
import type { RouteDoc } from '../openapi';
import { requirePrincipal } from '../principal';
import { parseInput } from '../validate';

export interface RuntimeLogLine {
  allocationId: string;
  stream: 'stdout' | 'stderr';
  at: string;
  text: string;
}

/** Runtime logs from the agent that runs an allocation (logs/ module). */
export interface RuntimeLogSource {
  open(request: { nodeId: string; allocationId: string; tail: number; follow: boolean }, signal: AbortSignal): AsyncIterable<RuntimeLogLine>;
}

const MAX_METRICS_DAYS = 7;
const instanceSchema = z.object({
  id: z.string(),
  nodeId: z.string(),
  status: z.string(),
  release: z.int().nullable(),
  startedAt: z.string().nullable(),
  restarts: z.int(),
  cpuPercent: z.number().nullable(),
  memoryMb: z.number().nullable(),
  upstream: z.string().nullable(),
  message: z.string().nullable(),
  reportedAt: z.string().nullable(),
});
const logsQuery = z.object({
  tail: z.coerce.number().int().min(0).max(10_000).default(100),
  follow: z.enum(['0', '1', 'true', 'false']).default('0'),
});
const metricsQuery = z.object({
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .refine((s) => s === undefined || Date.now() - Date.parse(s) <= MAX_METRICS_DAYS * 86_400_000, `at most ${MAX_METRICS_DAYS} days back`),
});
const metricsSchema = z.object({
  since: z.string(),
  points: z.array(z.object({ at: z.string(), instances: z.int(), cpuPercent: z.number(), memoryMb: z.number(), netRxBytes: z.number(), netTxBytes: z.number() })),
});
const envSchema = z.object({ vars: z.array(z.object({ key: z.string(), secret: z.boolean(), value: z.string().optional() })) });
const envPatchResponse = envSchema.extend({ release: z.int().nullable(), deploy: deploySchema.nullable() });

export function appRuntimeRoutes(deps: { db: Db; secrets: SecretBox; logs: RuntimeLogSource; wakeDeploys(): void }): Router {
  const r = Router();
  const { db } = deps;
  const owned = (req: Parameters<typeof requirePrincipal>[0]) => loadOwned<AppRow>(db, requirePrincipal(req), 'app', parseInput(idParams, req.params, 'params').id);

  r.get('/apps/:id/instances', async (req, res) => {
    const app = await owned(req);
    res.json({ items: await listInstances(db, app.id), nextCursor: null });
  });
  r.get('/apps/:id/metrics', async (req, res) => {
    const app = await owned(req);
    const q = parseInput(metricsQuery, req.query, 'query');
    const since = q.since ? new Date(q.since) : new Date(Date.now() - 3_600_000);
    res.json({ since: since.toISOString(), points: await appMetrics(db, app.id, since) });
  });
  r.get('/apps/:id/logs', async (req, res) => {
    const app = await owned(req);
    const q = parseInput(logsQuery, req.query, 'query');
    const instances = (await listInstances(db, app.id)).filter((i) => i.status !== 'pending');
    await streamLogs(res, deps.logs, instances, { tail: q.tail, follow: q.follow === '1' || q.follow === 'true' });
  });
  r.get('/apps/:id/env', async (req, res) => {
    const app = await owned(req);
    res.json({ vars: await listEnv(db, deps.secrets, app.id) });
  });
  r.patch('/apps/:id/env', async (req, res) => {
    const app = await owned(req);
    const patch = parseInput(envPatchSchema, req.body);
    res.locals.audit = { action: 'app.env.update', target: `app:${app.id}`, details: { set: patch.set.map((v) => v.key), unset: patch.unset } };
    if (app.status === 'deleting') throw new DomainError('CONFLICT', 'the app is being deleted');
    const { vars, deploy } = await patchEnv(db, deps.secrets, app.id, patch, requirePrincipal(req).userId);
    if (deploy) deps.wakeDeploys();
    res.json({ vars, release: deploy?.releaseNumber ?? null, deploy: deploy ?? null });
  });
  return r;
}

/**
 * SSE of every instance's lines, tagged by instance. A slow client slows the agents down: a line
 * is taken from a stream only after the previous write drained, and the streams grant the agents
 * credit as lines are taken. When the client goes, every stream is aborted (the agents stop).
 */
async function streamLogs(res: Response, logs: RuntimeLogSource, instances: Array<{ id: string; nodeId: string }>, opts: { tail: number; follow: boolean }): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(`event: instances\ndata: ${JSON.stringify({ instances: instances.map((i) => i.id) })}\n\n`);
  const drained = () => (res.writableNeedDrain ? new Promise<void>((resolve) => res.once('drain', resolve)) : Promise.resolve());
  const pump = async (instance: { id: string; nodeId: string }) => {
    try {
      for await (const line of logs.open({ nodeId: instance.nodeId, allocationId: instance.id, tail: opts.tail, follow: opts.follow }, abort.signal)) {
        if (abort.signal.aborted) return;
        res.write(`event: log\ndata: ${JSON.stringify({ instance: instance.id, stream: line.stream, at: line.at, text: line.text })}\n\n`);
        await drained();
      }
    } catch (e) {
      if (!abort.signal.aborted) res.write(`event: error\ndata: ${JSON.stringify({ instance: instance.id, message: (e as Error).message })}\n\n`);
    }
  };
  await Promise.all(instances.map(pump));
  if (!abort.signal.aborted) {
    res.write('event: end\ndata: {}\n\n');
    res.end();
  }
}

const params = idParams;
const notFound = { description: 'not yours or no such app (NOT_FOUND)' };
export const appRuntimeRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/apps/:id/instances',
    summary: "The app's replicas as the agents last reported them",
    auth: 'user',
    params,
    responses: { 200: { description: 'instances', schema: z.object({ items: z.array(instanceSchema), nextCursor: z.null() }) }, 404: notFound },
  },
  {
    method: 'get',
    path: '/apps/:id/logs',
    summary: 'Runtime logs of every instance as Server-Sent Events (`log` events tagged by instance; `end` when not following)',
    auth: 'user',
    params,
    query: logsQuery,
    responses: { 200: { description: 'an event stream', contentType: 'text/event-stream' }, 404: notFound },
  },
  {
    method: 'get',
    path: '/apps/:id/metrics',
    summary: 'CPU, memory and network per minute, summed over instances (default: the last hour; at most 7 days)',
    auth: 'user',
    params,
    query: metricsQuery,
    responses: { 200: { description: 'the series', schema: metricsSchema }, 404: notFound },
  },
  { method: 'get', path: '/apps/:id/env', summary: 'Env var names; values of non-secret ones', auth: 'user', params, responses: { 200: { description: 'the env', schema: envSchema }, 404: notFound } },
  {
    method: 'patch',
    path: '/apps/:id/env',
    summary: 'Set and unset env vars: a new release, rolled out when the app has one running',
    auth: 'user',
    params,
    body: envPatchSchema,
    responses: { 200: { description: 'the env after the change, with the release and deploy it made', schema: envPatchResponse }, 404: notFound },
  },
];
