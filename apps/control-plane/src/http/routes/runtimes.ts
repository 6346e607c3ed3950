import { Router } from 'express';
import { z } from 'zod';
import { imageRefSchema } from '@karvon/protocol';
import type { Db } from '../../db/connect';
import { createRuntime, deleteRuntime, listRuntimes, RUNTIME_KINDS, updateRuntime } from '../../catalog/runtimes';
import { listOf, type RouteDoc } from '../openapi';
import { requireAdmin, requirePrincipal } from '../principal';
import { parseInput } from '../validate';

export const runtimeId = z.string().regex(/^[a-z][a-z0-9_-]{0,62}[a-z0-9]$/, 'a runtime id: a-z, 0-9, _ and -, 2–64 characters');
const version = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, 'a version such as 20 or 3.12: letters, digits, . _ -, up to 32');
// A command is one line of printable text: no NUL, newlines or other control characters that
// could end a Dockerfile instruction early or smuggle a second one.
const command = z
  .string()
  .trim()
  .min(1)
  .max(1000)
  .regex(/^[^\p{Cc}]*$/u, 'one line of printable text');

const createBody = z.strictObject({
  id: runtimeId.optional(),
  kind: z.enum(RUNTIME_KINDS),
  version,
  baseImage: imageRefSchema,
  buildCommand: command.optional(),
  startCommand: command.optional(),
});
const patchBody = z
  .strictObject({
    kind: z.enum(RUNTIME_KINDS).optional(),
    version: version.optional(),
    baseImage: imageRefSchema.optional(),
    // null clears a default command
    buildCommand: command.nullable().optional(),
    startCommand: command.nullable().optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'at least one field is required');
const params = z.object({ id: runtimeId });

const runtimeView = z.object({
  id: z.string(),
  kind: z.enum(RUNTIME_KINDS),
  version: z.string(),
  baseImage: z.string(),
  buildCommand: z.string().nullable(),
  startCommand: z.string().nullable(),
});

export function runtimeRoutes(deps: { db: Db }): Router {
  const r = Router();
  r.get('/runtimes', async (req, res) => {
    requirePrincipal(req);
    res.json({ items: await listRuntimes(deps.db), nextCursor: null });
  });
  r.get('/admin/runtimes', async (req, res) => {
    requireAdmin(req);
    res.json({ items: await listRuntimes(deps.db), nextCursor: null });
  });
  r.post('/admin/runtimes', async (req, res) => {
    requireAdmin(req);
    const body = parseInput(createBody, req.body);
    res.locals.audit = { action: 'runtime.create', details: { kind: body.kind, version: body.version } };
    const rt = await createRuntime(deps.db, body);
    res.locals.audit = { action: 'runtime.create', target: `runtime:${rt.id}` };
    res.status(201).json(rt);
  });
  r.patch('/admin/runtimes/:id', async (req, res) => {
    requireAdmin(req);
    const { id } = parseInput(params, req.params, 'params');
    const body = parseInput(patchBody, req.body);
    res.locals.audit = { action: 'runtime.update', target: `runtime:${id}`, details: body };
    res.json(await updateRuntime(deps.db, id, body));
  });
  r.delete('/admin/runtimes/:id', async (req, res) => {
    requireAdmin(req);
    const { id } = parseInput(params, req.params, 'params');
    res.locals.audit = { action: 'runtime.delete', target: `runtime:${id}` };
    await deleteRuntime(deps.db, id);
    res.status(204).end();
  });
  return r;
}

export const runtimeRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/runtimes', summary: 'Runtimes builds can use', auth: 'user', responses: { 200: { description: 'runtimes', schema: listOf(runtimeView) } } },
  { method: 'get', path: '/admin/runtimes', summary: 'Runtimes', auth: 'admin', responses: { 200: { description: 'runtimes', schema: listOf(runtimeView) } } },
  {
    method: 'post',
    path: '/admin/runtimes',
    summary: 'Create a runtime',
    auth: 'admin',
    body: createBody,
    responses: { 201: { description: 'created', schema: runtimeView }, 409: { description: 'id, or kind and version, taken (CONFLICT)' } },
  },
  {
    method: 'patch',
    path: '/admin/runtimes/:id',
    summary: 'Change a runtime',
    auth: 'admin',
    params,
    body: patchBody,
    responses: { 200: { description: 'changed', schema: runtimeView }, 409: { description: 'kind and version taken (CONFLICT)' } },
  },
  {
    method: 'delete',
    path: '/admin/runtimes/:id',
    summary: 'Delete a runtime',
    auth: 'admin',
    params,
    responses: { 204: { description: 'deleted' } },
  },
];
