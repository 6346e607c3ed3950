// The OpenAPI document is generated from the same zod schemas the routes validate with, so the
// published contract cannot drift from what the server accepts. Each routes file exports its
// RouteDoc list beside its schemas; route-docs.ts gathers them; a test checks that every
// registered Express route has a doc and every doc a route.
import { z } from 'zod';
import { ERROR_CODES } from '../domain/errors';

export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** express style, relative to /api/v1 (or to the server root when `root` is set), e.g. '/apps/:id' */
  path: string;
  summary: string;
  auth: 'public' | 'user' | 'admin' | 'agent';
  /** the few routes served outside /api/v1 (health probes) */
  root?: true;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

export const API_BASE_PATH = '/api/v1';

/** The error envelope every 4xx/5xx carries (API.md "Errors"). */
export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** API.md list shape: `{items, nextCursor}`. */
export const listOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

type JsonObject = Record<string, unknown>;

/** Express `/apps/:id` → OpenAPI `/apps/{id}`; other Express path syntax is refused so it gets a thought. */
export function toOpenApiPath(path: string): string {
  if (/[*?(){}]/.test(path)) throw new Error(`route path ${path}: only :name parameters are supported in docs`);
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/**
 * zod → JSON Schema (2020-12, which OpenAPI 3.1 uses). Named sub-schemas (`.meta({id})`) land in
 * `$defs`; those move to components so `$ref`s resolve against the whole document.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output', components: JsonObject): JsonObject {
  const out = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonObject;
  delete out.$schema;
  const defs = out.$defs as JsonObject | undefined;
  delete out.$defs;
  const rewritten = rewriteRefs(out) as JsonObject;
  if (defs) for (const [name, def] of Object.entries(defs)) components[name] = rewriteRefs(def);
  return rewritten;
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === '$ref' && typeof v === 'string' ? v.replace(/^#\/\$defs\//, '#/components/schemas/') : rewriteRefs(v);
    }
    return out;
  }
  return value;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query', components: JsonObject): JsonObject[] {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input', components);
  const props = (s.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((s.required ?? []) as string[]);
  return Object.entries(props).map(([name, prop]) => ({
    name,
    in: where,
    // Path parameters are always required in OpenAPI, whatever the schema says.
    required: where === 'path' || required.has(name),
    schema: prop,
    ...(typeof prop.description === 'string' ? { description: prop.description } : {}),
  }));
}

const SECURITY: Record<RouteDoc['auth'], JsonObject[]> = {
  public: [],
  user: [{ bearer: [] }],
  admin: [{ bearer: [] }],
  agent: [{ agentCredential: [] }],
};

/** Refusals every route of a kind can answer, added unless the doc lists them itself. */
function implicitErrors(doc: RouteDoc): Record<number, string> {
  const out: Record<number, string> = {};
  if (doc.params || doc.query || doc.body) out[400] = 'invalid input (VALIDATION_FAILED, naming the field)';
  if (doc.auth !== 'public') out[401] = 'missing or invalid token (UNAUTHENTICATED)';
  if (doc.auth === 'admin') out[403] = 'admin role required (FORBIDDEN)';
  if (doc.params) out[404] = 'not found, or not yours (NOT_FOUND)';
  if (doc.body) out[413] = 'body larger than the limit (PAYLOAD_TOO_LARGE)';
  if ((doc.auth === 'user' || doc.auth === 'admin') && doc.method !== 'get') out[429] = 'too many changes (RATE_LIMITED, with Retry-After)';
  return out;
}

function operationId(doc: RouteDoc): string {
  const words = `${doc.method} ${doc.root ? '' : 'api'} ${doc.path}`.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
}

function tagOf(doc: RouteDoc): string {
  const parts = doc.path.split('/').filter(Boolean);
  return (parts[0] === 'admin' ? `admin/${parts[1] ?? ''}` : parts[0]) ?? 'root';
}

export function buildOpenApiDocument(routes: readonly RouteDoc[], info: { version: string }): Record<string, unknown> {
  const components: JsonObject = {};
  const paths: Record<string, JsonObject> = {};
  for (const doc of routes) {
    const path = (doc.root ? '' : API_BASE_PATH) + toOpenApiPath(doc.path);
    const item = (paths[path] ??= {});
    if (item[doc.method]) throw new Error(`duplicate RouteDoc for ${doc.method.toUpperCase()} ${path}`);
    const responses: JsonObject = {};
    const listed = new Map(Object.entries(doc.responses));
    for (const [status, description] of Object.entries(implicitErrors(doc))) {
      if (!listed.has(status)) listed.set(status, { description });
    }
    for (const [status, r] of [...listed].sort(([a], [b]) => Number(a) - Number(b))) {
      const isError = Number(status) >= 400;
      const schema = r.schema ? jsonSchema(r.schema, 'output', components) : isError ? { $ref: '#/components/schemas/Error' } : undefined;
      responses[status] = {
        description: r.description,
        ...(schema || r.contentType ? { content: { [r.contentType ?? 'application/json']: { schema: schema ?? {} } } } : {}),
        ...(Number(status) === 429 ? { headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } } } : {}),
      };
    }
    const params = [...parameters(doc.params, 'path', components), ...parameters(doc.query, 'query', components)];
    const declared = new Set(params.filter((p) => p.in === 'path').map((p) => p.name as string));
    for (const m of path.matchAll(/\{([^}]+)\}/g)) {
      if (!declared.has(m[1]!)) throw new Error(`RouteDoc ${doc.method.toUpperCase()} ${path}: path parameter ${m[1]} has no params schema`);
    }
    item[doc.method] = {
      operationId: operationId(doc),
      summary: doc.summary,
      tags: [tagOf(doc)],
      security: SECURITY[doc.auth],
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(doc.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body, 'input', components) } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Karvon API',
      version: info.version,
      description: 'Generated from the schemas the control plane validates requests with.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { ...components, Error: jsonSchema(errorEnvelopeSchema, 'output', components) },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a user access token (JWT) or an API token (kvt_…)' },
        agentCredential: { type: 'http', scheme: 'bearer', description: 'an agent node credential or agent JWT' },
      },
    },
  };
}
