// Nodes registered through the real API (admin login → region → one registration token per node →
// agent register), with bounded concurrency; and the admin node list, paginated.
import { benchFacts } from './frames';
import { ADMIN } from './control-plane-process';
import type { SimAgentSpec } from './sim-protocol';

async function call<T>(baseUrl: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function adminLogin(baseUrl: string): Promise<string> {
  const res = await call<{ accessToken: string }>(baseUrl, 'POST', '/api/v1/auth/login', undefined, ADMIN);
  if (res.status !== 200) throw new Error(`admin login: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.accessToken;
}

export async function ensureRegion(baseUrl: string, admin: string, id: string): Promise<void> {
  const res = await call(baseUrl, 'POST', '/api/v1/admin/regions', admin, { id, name: id });
  if (res.status !== 201 && res.status !== 409) throw new Error(`region ${id}: ${res.status} ${JSON.stringify(res.body)}`);
}

async function registerOne(baseUrl: string, admin: string, region: string, hostname: string): Promise<SimAgentSpec> {
  const t = await call<{ token: string }>(baseUrl, 'POST', '/api/v1/admin/node-tokens', admin, { region });
  if (t.status !== 201) throw new Error(`node token: ${t.status} ${JSON.stringify(t.body)}`);
  const r = await call<{ nodeId: string; credential: string }>(baseUrl, 'POST', '/api/v1/agent/register', undefined, {
    token: t.body.token,
    hostname,
    agentVersion: 'bench-sim',
    facts: benchFacts(hostname),
  });
  if (r.status !== 201) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
  return { nodeId: r.body.nodeId, credential: r.body.credential, hostname };
}

/**
 * Registers `count` nodes in `region` (created if needed), `concurrency` at a time. Each node costs
 * two calls here (token, register); the simulators make the third (credential → agent JWT) on
 * every connect, as the agent does.
 */
export async function registerFleet(baseUrl: string, admin: string, region: string, count: number, concurrency = 48): Promise<SimAgentSpec[]> {
  await ensureRegion(baseUrl, admin, region);
  const out: SimAgentSpec[] = new Array<SimAgentSpec>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await registerOne(baseUrl, admin, region, `${region}-${i}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}

export interface NodeRow {
  id: string;
  liveness: 'online' | 'suspect' | 'offline';
  status: string;
  lastHeartbeatAt: string | null;
}

/** Every node of a region through GET /api/v1/admin/nodes (cursor pagination, 200 a page). */
export async function listRegionNodes(baseUrl: string, admin: string, region: string): Promise<NodeRow[]> {
  const all: NodeRow[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ region, limit: '200' });
    if (cursor) q.set('cursor', cursor);
    const res = await call<{ items: NodeRow[]; nextCursor: string | null }>(baseUrl, 'GET', `/api/v1/admin/nodes?${q.toString()}`, admin);
    if (res.status !== 200) throw new Error(`list nodes: ${res.status} ${JSON.stringify(res.body)}`);
    all.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return all;
}
