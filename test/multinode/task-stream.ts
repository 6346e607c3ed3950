// A stream of tasks committed straight to the queue (as any control plane, or the API, commits
// them), spread over the nodes, and the check that each ran exactly once: its row ended
// `succeeded` with its own result, and the node's journal (the agent's record of what it executed,
// keyed by idempotency key) shows one execution, on that node only.
//
// Two kinds whose effect is observable: `noop` (sometimes held a while, so a crash lands in the
// middle of one) and `issue-challenge` installs (the agent's challenge responder then answers the
// token for its hostname, and no other node's does).
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import { enqueueTask, type NewTask } from '../../apps/control-plane/src/dispatch/task-queue';

export interface StreamedTask {
  key: string;
  nodeIndex: number;
  nodeId: string;
  kind: 'noop' | 'issue-challenge';
  /** issue-challenge: what the node must answer for */
  challenge?: { hostname: string; token: string; keyAuthorization: string };
}

export interface TaskRow {
  id: string;
  idempotency_key: string;
  node_id: string;
  state: string;
  attempts: number;
  result: unknown;
  last_error: unknown;
}

export interface JournalEntry {
  taskId: string;
  idempotencyKey: string;
  status: string;
  executions: number;
}

/** What a task must look like once everything settled; one line per violation. */
export function taskViolations(
  tasks: readonly StreamedTask[],
  rows: readonly TaskRow[],
  /** per node index: its journal entries */
  journals: ReadonlyArray<readonly JournalEntry[]>,
): string[] {
  const out: string[] = [];
  const rowByKey = new Map(rows.map((r) => [r.idempotency_key, r]));
  const ours = new Set(tasks.map((t) => t.key));
  for (const t of tasks) {
    const row = rowByKey.get(t.key);
    if (!row) {
      out.push(`${t.key}: no task row (lost)`);
      continue;
    }
    if (row.state !== 'succeeded') out.push(`${t.key}: ended ${row.state} after ${row.attempts} attempts (${JSON.stringify(row.last_error)})`);
    const expected = t.kind === 'noop' ? { echo: t.key } : { token: t.challenge?.token, action: 'install', installed: true };
    if (row.state === 'succeeded' && JSON.stringify(row.result) !== JSON.stringify(expected)) out.push(`${t.key}: result ${JSON.stringify(row.result)}, expected ${JSON.stringify(expected)}`);
    const entries = journals[t.nodeIndex]?.filter((e) => e.idempotencyKey === t.key) ?? [];
    if (entries.length !== 1) out.push(`${t.key}: ${entries.length} journal entries on node ${t.nodeIndex}`);
    for (const e of entries) {
      if (e.executions !== 1) out.push(`${t.key}: executed ${e.executions} times on node ${t.nodeIndex}`);
      if (e.status !== 'finished') out.push(`${t.key}: journal says ${e.status} on node ${t.nodeIndex}`);
      if (e.taskId !== row.id) out.push(`${t.key}: journal has task ${e.taskId}, the row is ${row.id}`);
    }
  }
  journals.forEach((entries, n) => {
    for (const e of entries) {
      const t = tasks.find((x) => x.key === e.idempotencyKey);
      if (ours.has(e.idempotencyKey) && t && t.nodeIndex !== n) out.push(`${e.idempotencyKey}: ran on node ${n}, it was for node ${t.nodeIndex}`);
    }
  });
  return out;
}

/** Every journal entry in an agent's state dir whose key starts with `prefix`. */
export async function readJournal(stateDir: string, prefix: string): Promise<JournalEntry[]> {
  const dir = path.join(stateDir, 'tasks');
  const files = await readdir(dir).catch(() => [] as string[]);
  const entries = await Promise.all(files.filter((f) => f.endsWith('.json')).map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as JournalEntry));
  return entries.filter((e) => e.idempotencyKey.startsWith(prefix));
}

/** the journal file name the agent uses for a key (task-journal.ts) */
export const journalFile = (key: string) => `${createHash('sha256').update(key).digest('hex')}.json`;

/** Asks a node's challenge responder for a token as the CA would (Host: the hostname). */
export function askChallenge(port: number, hostname: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/.well-known/acme-challenge/${token}`, headers: { host: hostname }, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('challenge request timed out')));
    req.on('error', reject);
    req.end();
  });
}

export interface TaskStream {
  /** stops producing; resolves with every task committed */
  stop(): Promise<StreamedTask[]>;
}

/**
 * Commits one task every `everyMs` (±50 %) to a node drawn from `rng`, until stopped. A failed
 * commit (the database is fine; this never happens in practice) fails the stream at stop().
 */
export function startTaskStream(o: { db: Knex; nodes: ReadonlyArray<{ nodeId: string }>; rng: () => number; prefix: string; everyMs: number }): TaskStream {
  const tasks: StreamedTask[] = [];
  let running = true;
  let seq = 0;
  const loop = (async () => {
    while (running) {
      const i = seq++;
      const nodeIndex = Math.floor(o.rng() * o.nodes.length);
      const nodeId = o.nodes[nodeIndex]!.nodeId;
      const key = `${o.prefix}-${i}`;
      const challenge = o.rng() < 0.25;
      const deadline = new Date(Date.now() + 15 * 60_000);
      let task: NewTask;
      let streamed: StreamedTask;
      if (challenge) {
        const c = { hostname: `t${i}.${o.prefix}.example.test`, token: `tok_${o.prefix}_${i}`, keyAuthorization: `tok_${o.prefix}_${i}.thumbprint${i}` };
        task = { nodeId, kind: 'issue-challenge', payload: { ...c, action: 'install' }, idempotencyKey: key, deadline };
        streamed = { key, nodeIndex, nodeId, kind: 'issue-challenge', challenge: c };
      } else {
        // a third of them held 0.5–3 s, so some are running when the control plane dies
        const durationMs = o.rng() < 0.33 ? 500 + Math.floor(o.rng() * 2_500) : 0;
        task = { nodeId, kind: 'noop', payload: { echo: key, ...(durationMs ? { durationMs } : {}) }, idempotencyKey: key, deadline };
        streamed = { key, nodeIndex, nodeId, kind: 'noop' };
      }
      await enqueueTask(o.db, task);
      tasks.push(streamed);
      await new Promise((r) => setTimeout(r, Math.floor(o.everyMs * (0.5 + o.rng()))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return tasks;
    },
  };
}
