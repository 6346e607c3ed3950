import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/connect';
import { loadOwned } from '../../access/load-owned';
import { resourceId, resourceName } from '../../apps/app-schemas';
import { createProject, deleteProject, listProjects } from '../../projects/projects';
import type { QuotaGate } from '../../apps/quota-gate';
import { listOf, type RouteDoc } from '../openapi';
import { pageQuery } from '../pagination';
import { requirePrincipal } from '../principal';
import { parseInput } from '../validate';

const createBody = z.strictObject({ name: resourceName });
const params = z.object({ id: resourceId });
const projectSchema = z.object({ id: z.string(), name: z.string(), ownerId: z.string(), createdAt: z.string() });

export function projectRoutes(deps: { db: Db; quotas: QuotaGate }): Router {
  const r = Router();
  r.post('/projects', async (req, res) => {
    const p = requirePrincipal(req);
    const body = parseInput(createBody, req.body);
    await deps.quotas.check(p.userId, { projects: 1 });
    const project = await createProject(deps.db, p.userId, body.name);
    res.locals.audit = { action: 'project.create', target: `project:${project.id}` };
    res.status(201).json(project);
  });
  r.get('/projects', async (req, res) => {
    const p = requirePrincipal(req);
    res.json(await listProjects(deps.db, p, parseInput(pageQuery, req.query, 'query')));
  });
  r.delete('/projects/:id', async (req, res) => {
    const p = requirePrincipal(req);
    const { id } = parseInput(params, req.params, 'params');
    res.locals.audit = { action: 'project.delete', target: `project:${id}` };
    await loadOwned(deps.db, p, 'project', id);
    await deleteProject(deps.db, id);
    res.status(204).end();
  });
  return r;
}

export const projectRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/projects',
    summary: 'Create a project',
    auth: 'user',
    body: createBody,
    responses: { 201: { description: 'created', schema: projectSchema }, 409: { description: 'name taken (CONFLICT)' }, 422: { description: 'QUOTA_EXCEEDED' } },
  },
  { method: 'get', path: '/projects', summary: 'Your projects, newest first', auth: 'user', query: pageQuery, responses: { 200: { description: 'projects', schema: listOf(projectSchema) } } },
  {
    method: 'delete',
    path: '/projects/:id',
    summary: 'Delete a project without apps',
    auth: 'user',
    params,
    responses: { 204: { description: 'deleted' }, 404: { description: 'NOT_FOUND' }, 409: { description: 'the project still has apps (CONFLICT)' } },
  },
];
