// Bookkeeping shared by the hub benchmarks: cleanup that runs even on failure or Ctrl-C, temp
// dirs, database helpers and small statistics.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

type Cleanup = () => Promise<void>;

/** Cleanups run last-in first-out; each failure is reported and the rest still run. */
export class Resources {
  private readonly stack: Array<{ name: string; fn: Cleanup }> = [];

  add(name: string, fn: Cleanup): void {
    this.stack.push({ name, fn });
  }

  async release(): Promise<void> {
    while (this.stack.length > 0) {
      const { name, fn } = this.stack.pop()!;
      try {
        await fn();
      } catch (e) {
        console.error(`cleanup ${name} failed: ${(e as Error).message}`);
      }
    }
  }
}

const active = new Set<Resources>();
let signalHooked = false;

/** Runs `body` with a resource scope that is released on return, on throw and on SIGINT/SIGTERM. */
export async function withResources<T>(body: (r: Resources) => Promise<T>): Promise<T> {
  if (!signalHooked) {
    signalHooked = true;
    const onSignal = (signal: NodeJS.Signals) => {
      console.error(`\n${signal}: cleaning up hub benchmark processes…`);
      void Promise.all([...active].map((r) => r.release())).finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  const r = new Resources();
  active.add(r);
  try {
    return await body(r);
  } finally {
    await r.release();
    active.delete(r);
  }
}

export function tempDir(r: Resources, prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  r.add(`rm ${dir}`, () => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  return dir;
}

/** One short-lived connection per call, so a database that restarts in between is no problem. */
export async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000, application_name: 'karvon-bench' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const round = (v: number, digits = 2): number => Number(v.toFixed(digits));

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return v;
}

export function log(bench: string, message: string): void {
  console.log(`  [${bench}] ${message}`);
}
