import { Validator } from '@seriousme/openapi-schema-validator';
import type { Express } from 'express';
import { match } from 'path-to-regexp';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpApp, type HttpDeps } from './app';
import { API_BASE_PATH, buildOpenApiDocument, toOpenApiPath, type RouteDoc } from './openapi';
import { API_VERSION, routeDocs } from './route-docs';

/**
 * Stand-in deps: any property is a callable that returns another stand-in, so building the app
 * works whatever deps routes add later. Nothing is called here; only the router is read.
 */
function standIn(): unknown {
  const fn = () => standIn();
  return new Proxy(fn, { get: (_t, prop) => (prop === 'then' ? undefined : standIn()) });
}

interface Layer {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** every `METHOD /path` the Express app answers, read from its router stack */
function registeredRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') out.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
        }
      } else if (layer.handle?.stack) {
        if (typeof layer.rawPath !== 'string') throw new Error(`router mounted on a non-string path: ${String(layer.rawPath)}`);
        walk(layer.handle.stack, layer.rawPath === '/' ? prefix : prefix + layer.rawPath);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out.sort();
}

const documented = (docs: readonly RouteDoc[]) => docs.map((d) => `${d.method.toUpperCase()} ${d.root ? '' : API_BASE_PATH}${d.path}`).sort();

describe('route docs', () => {
  it('cover every registered route, and every doc has a route', () => {
    const app = createHttpApp(standIn() as HttpDeps);
    const routes = registeredRoutes(app);
    expect(routes.length).toBeGreaterThan(20);
    const docs = documented(routeDocs);
    expect(docs.filter((d) => !routes.includes(d)), 'docs without a route').toEqual([]);
    expect(routes.filter((r) => !docs.includes(r)), 'routes without a RouteDoc (add one to route-docs.ts)').toEqual([]);
  });

  it('never answer one request with two routes, so the order routers are mounted in (app.ts) is free', () => {
    const routes = registeredRoutes(createHttpApp(standIn() as HttpDeps)).map((r) => {
      const [method, path] = r.split(' ') as [string, string];
      return { method, path, matches: match(path), sample: path.replace(/:[A-Za-z]+/g, 'x1') };
    });
    const overlaps = routes.flatMap((a) => routes.filter((b) => b !== a && b.method === a.method && b.matches(a.sample)).map((b) => `${a.method} ${a.path} ~ ${b.path}`));
    expect(overlaps).toEqual([]);
  });

  it('name each method and path once', () => {
    const docs = documented(routeDocs);
    expect(new Set(docs).size).toBe(docs.length);
  });
});

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument(routeDocs, { version: API_VERSION });

  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('uses the request schemas (input side) and documents path parameters', () => {
    const paths = doc.paths as Record<string, Record<string, { parameters?: { name: string; in: string; required: boolean }[]; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>>;
    const patch = paths['/api/v1/admin/plans/{id}']!.patch!;
    expect(patch.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    const body = patch.requestBody!.content['application/json']!.schema;
    expect(body.additionalProperties).toBe(false);
    expect(Object.keys(body.properties as object)).toContain('hourlyPrice');
    const register = paths['/api/v1/auth/register']!.post!.requestBody!.content['application/json']!.schema;
    expect(register.required).toEqual(['email', 'password']);
    const nodes = paths['/api/v1/admin/nodes']!.get!;
    expect(nodes.parameters!.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual(['query:region:false', 'query:limit:false', 'query:cursor:false']);
  });

  it('shares the error envelope and the bearer scheme', () => {
    const components = doc.components as { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    expect(components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(components.schemas.Error).toBeDefined();
    const paths = doc.paths as Record<string, Record<string, { security: unknown[]; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
    const del = paths['/api/v1/admin/plans/{id}']!.delete!;
    expect(del.security).toEqual([{ bearer: [] }]);
    for (const status of ['401', '403', '404', '409', '429']) {
      expect(del.responses[status]!.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Error' });
    }
    expect(paths['/healthz']!.get!.security).toEqual([]);
  });

  it('moves named sub-schemas to components so refs resolve', async () => {
    const named = z.object({ id: z.string() }).meta({ id: 'Thing' });
    const built = buildOpenApiDocument(
      [{ method: 'get', path: '/things/:id', summary: 's', auth: 'user', params: z.object({ id: z.string() }), responses: { 200: { description: 'ok', schema: z.object({ a: named, b: named }) } } }],
      { version: '1' },
    );
    expect(JSON.stringify(built)).not.toContain('$defs');
    expect((built.components as { schemas: Record<string, unknown> }).schemas.Thing).toBeDefined();
    expect((await new Validator().validate(structuredClone(built))).valid).toBe(true);
  });

  it('refuses docs it cannot express faithfully', () => {
    const base = { summary: 's', auth: 'user', responses: { 200: { description: 'ok' } } } as const;
    expect(() => buildOpenApiDocument([{ ...base, method: 'get', path: '/apps/:id' }], { version: '1' })).toThrow(/no params schema/);
    expect(() => buildOpenApiDocument([{ ...base, method: 'get', path: '/a' }, { ...base, method: 'get', path: '/a' }], { version: '1' })).toThrow(/duplicate/);
    expect(() => toOpenApiPath('/files/*rest')).toThrow(/only :name/);
    expect(toOpenApiPath('/apps/:id/domains/:domainId/verify')).toBe('/apps/{id}/domains/{domainId}/verify');
  });
});
