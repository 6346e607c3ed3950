// The mixed workload: ONE autocannon instance with all the connections (the "200 concurrent
// clients" of BENCHMARKS.md). Each request is drawn at random from a 20-slot table — 18 reads and
// 2 writes, a 90/10 mix whatever the latencies (two instances with their own connection counts
// would let the faster side set the mix; a fixed per-connection order would skew it in short runs,
// where a connection makes fewer than 20 requests) — for a random customer, with that customer's
// bearer token, naming one of their apps.
//
// Reads and writes are measured apart with autocannon's public hooks: a one-request table whose
// `setupRequest` draws the operation and notes it in the connection's context, and whose
// `onResponse` (called by autocannon just before it emits `response`, synchronously, with its own
// latency for that request: hrtime from the write of the request to the end of the response) hands
// it to the `response` listener, which files the latency and the status under the operation.
// Anything but 2xx is a failure.
import autocannon from 'autocannon';
import type { Customer } from './tenants';

export type Kind = 'read' | 'write';

interface Op {
  name: string;
  kind: Kind;
  method: 'GET' | 'PATCH';
  build(c: Customer, appId: string, seq: number): { path: string; body?: unknown };
}

const appGet: Op = { name: 'GET /apps/:id', kind: 'read', method: 'GET', build: (_c, app) => ({ path: `/api/v1/apps/${app}` }) };
const appList: Op = { name: 'GET /apps?limit=20', kind: 'read', method: 'GET', build: () => ({ path: '/api/v1/apps?limit=20' }) };
const envGet: Op = { name: 'GET /apps/:id/env', kind: 'read', method: 'GET', build: (_c, app) => ({ path: `/api/v1/apps/${app}/env` }) };
const projectList: Op = { name: 'GET /projects', kind: 'read', method: 'GET', build: () => ({ path: '/api/v1/projects' }) };
const appPatch: Op = {
  name: 'PATCH /apps/:id {port}',
  kind: 'write',
  method: 'PATCH',
  build: (_c, app, seq) => ({ path: `/api/v1/apps/${app}`, body: { port: 1024 + (seq % 60_000) } }),
};
const envPatch: Op = {
  name: 'PATCH /apps/:id/env {set}',
  kind: 'write',
  method: 'PATCH',
  // A few names reused: the app's env stays small; the app was never deployed, so no release.
  build: (_c, app, seq) => ({ path: `/api/v1/apps/${app}/env`, body: { set: { [`BENCH_${seq % 4}`]: `v${seq}` } } }),
};

/** 20 slots: app 8, app list 4, env 4, project list 2 (reads, 90%); app patch 1, env patch 1. */
export const TABLE: readonly Op[] = [
  appGet, appList, envGet, appGet, appPatch, projectList, appGet, envGet, appList, appGet,
  appGet, appList, envGet, appGet, envPatch, projectList, appGet, envGet, appList, appGet,
];

export interface OpStats {
  name: string;
  kind: Kind;
  latencies: number[];
  statuses: Map<number, number>;
  failures: number;
  sampleFailures: string[];
}

export interface LoadResult {
  seconds: number;
  ops: OpStats[];
  /** autocannon's own totals over all requests */
  autocannon: { requests: number; errors: number; timeouts: number; non2xx: number; resets: number; mismatches: number };
}

interface Ctx {
  op?: Op;
}

export async function runLoad(baseUrl: string, customers: readonly Customer[], connections: number, seconds: number, rate = 0): Promise<LoadResult> {
  // autocannon gives each connection floor(rate / connections), and a connection with 0 is unlimited
  if (rate > 0 && rate < connections) throw new Error(`rate ${rate}/s must be at least the ${connections} connections`);
  const url = new URL(baseUrl);
  const stats = new Map<Op, OpStats>();
  for (const op of TABLE) if (!stats.has(op)) stats.set(op, { name: op.name, kind: op.kind, latencies: [], statuses: new Map(), failures: 0, sampleFailures: [] });
  let seq = 0;
  let last: { op: Op; status: number; body: string } | undefined;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

  // One slot: autocannon resets the context before each request, then calls setupRequest with it,
  // sends, and calls onResponse with the same context when the answer is in (pipelining 1).
  const requests: autocannon.Request[] = [
    {
      setupRequest: (req, context) => {
        const ctx = context as Ctx;
        const op = pick(TABLE);
        const c = pick(customers);
        ctx.op = op;
        const built = op.build(c, pick(c.appIds), seq++);
        const headers: Record<string, string> = { authorization: `Bearer ${c.token}` };
        if (built.body !== undefined) headers['content-type'] = 'application/json';
        return { ...req, method: op.method, path: built.path, headers, body: built.body === undefined ? undefined : JSON.stringify(built.body) };
      },
      onResponse: (status, body, context) => {
        const op = (context as Ctx).op;
        last = op ? { op, status, body } : undefined;
      },
    },
  ];

  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url: `${url.protocol}//${url.host}`, connections, duration: seconds, pipelining: 1, timeout: 10, requests, ...(rate > 0 ? { overallRate: rate } : {}) },
      (err: unknown, res: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve(res)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      const l = last;
      last = undefined;
      if (!l) return;
      const s = stats.get(l.op)!;
      s.statuses.set(statusCode, (s.statuses.get(statusCode) ?? 0) + 1);
      if (statusCode >= 200 && statusCode < 300) s.latencies.push(responseTime);
      else {
        s.failures += 1;
        if (s.sampleFailures.length < 3) s.sampleFailures.push(`${statusCode} ${l.body.slice(0, 200)}`);
      }
    });
  });
  const elapsed = (performance.now() - started) / 1000;
  return {
    // autocannon stops the clock at `duration`; responses still in flight then are not counted
    seconds: Math.min(elapsed, seconds),
    ops: [...stats.values()],
    autocannon: { requests: result.requests.total, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, resets: result.resets, mismatches: result.mismatches },
  };
}
