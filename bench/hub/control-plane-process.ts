// The real control plane as a separate process (its bin, embedded PostgreSQL in a temp data dir),
// so its memory and CPU can be read from /proc, and it can be stopped and started again.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { cmdline, commOf, descendants, isAlive } from './proc';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(REPO_ROOT, 'apps', 'control-plane', 'bin', 'karvon-control-plane.js');
const DIST = path.join(REPO_ROOT, 'apps', 'control-plane', 'dist', 'main.js');

export const ADMIN = { email: 'bench-admin@example.com', password: 'bench-admin-password-1' };

export { freePort } from '../../test/free-port';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ControlPlaneSettings {
  dataDir: string;
  port: number;
  pgPort: number;
  heartbeatSeconds: number;
  graceSeconds: number;
  /** 127.0.0.1 port for `--inspect`, used only to force a GC before reading RSS */
  inspectPort?: number;
  /** KARVON_LOG_LEVEL; default warn */
  logLevel?: string;
  /** more KARVON_* settings (they win over the ones above) */
  env?: Record<string, string>;
  /** more node options (e.g. --cpu-prof, which NODE_OPTIONS does not take) */
  nodeArgs?: string[];
}

/** `npm run build` when the control plane's bundle is missing (never rebuilds an existing one). */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(DIST)) return;
  const child = spawn('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0 || !existsSync(DIST)) throw new Error(`npm run build failed (${code})`);
}

export interface ControlPlaneProcess {
  pid: number;
  url: string;
  child: ChildProcess;
  /** ms from spawn until /healthz answered 200 (embedded PostgreSQL up, migrations run, app mounted) */
  startMs: number;
  /** the embedded postmaster's pid (a child of the control plane) */
  postgresPid: number | undefined;
  exited: Promise<number | string>;
  /** SIGTERM, wait for a clean exit (bounded), then kill whatever is left; resolves with ms taken */
  stop(timeoutMs?: number): Promise<number>;
  /** last lines the process printed (stdout and stderr), for error messages */
  output(): string;
}

/**
 * Starts the control plane and waits until it answers /healthz with 200: until the app is mounted
 * (after the database started and migrations ran) every request gets 503. /readyz is not used: it
 * also probes the connection pool, which a reconnecting fleet may keep busy past its 2 s bound.
 */
export async function startControlPlaneProcess(s: ControlPlaneSettings, timeoutMs = 90_000): Promise<ControlPlaneProcess> {
  const nodeArgs: string[] = [];
  if (s.inspectPort !== undefined) nodeArgs.push(`--inspect=127.0.0.1:${s.inspectPort}`);
  nodeArgs.push(...(s.nodeArgs ?? []));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    KARVON_PORT: String(s.port),
    KARVON_HOST: '127.0.0.1',
    KARVON_PUBLIC_URL: `http://127.0.0.1:${s.port}`,
    KARVON_DATA_DIR: s.dataDir,
    KARVON_EMBEDDED_PG_PORT: String(s.pgPort),
    KARVON_ADMIN_EMAIL: ADMIN.email,
    KARVON_ADMIN_PASSWORD: ADMIN.password,
    KARVON_HEARTBEAT_SECONDS: String(s.heartbeatSeconds),
    KARVON_NODE_GRACE_SECONDS: String(s.graceSeconds),
    KARVON_LOG_LEVEL: s.logLevel ?? 'warn',
    ...s.env,
  };
  const started = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, BIN], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const pid = child.pid;
  if (pid === undefined) throw new Error('control plane did not start');
  const url = `http://127.0.0.1:${s.port}`;
  let postgresPid: number | undefined;
  const findPostgres = () => {
    postgresPid ??= descendants(pid).find((p) => commOf(p) === 'postgres' && (cmdline(p) ?? '').includes(s.dataDir));
  };

  const cp: ControlPlaneProcess = {
    pid,
    url,
    child,
    startMs: 0,
    get postgresPid() {
      return postgresPid;
    },
    exited,
    output: () => out,
    async stop(stopTimeoutMs = 30_000) {
      const t0 = Date.now();
      findPostgres();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const done = await Promise.race([exited.then(() => true), sleep(stopTimeoutMs).then(() => false)]);
        if (!done) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      // A control plane killed hard leaves its postmaster behind: stop that one too (only if the
      // pid still runs our cluster, so a reused pid is never hit).
      if (postgresPid !== undefined && isAlive(postgresPid) && (cmdline(postgresPid) ?? '').includes(s.dataDir)) {
        process.kill(postgresPid, 'SIGINT');
        for (let i = 0; i < 100 && isAlive(postgresPid); i++) await sleep(100);
        if (isAlive(postgresPid)) process.kill(postgresPid, 'SIGKILL');
      }
      return Date.now() - t0;
    },
  };

  try {
    let ready = false;
    while (!ready) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`control plane exited during start:\n${out}`);
      if (Date.now() - started > timeoutMs) throw new Error(`control plane not ready within ${timeoutMs} ms:\n${out}`);
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
        ready = res.status === 200;
        await res.body?.cancel();
      } catch {
        // not listening yet
      }
      if (!ready) await sleep(50);
    }
    cp.startMs = Date.now() - started;
    findPostgres();
    return cp;
  } catch (e) {
    await cp.stop(5_000);
    throw e;
  }
}

/** The embedded server's URL, as the control plane builds it (password kept in the data dir). */
export function embeddedDatabaseUrl(dataDir: string, pgPort: number): string {
  const password = readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
  return `postgres://karvon:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/postgres`;
}

/** A session on the control plane's inspector port (`--inspect=127.0.0.1:<port>`). */
export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const msg = JSON.parse((d as Buffer).toString('utf8')) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result);
    });
  }

  static async open(port: number): Promise<Inspector> {
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
    const target = list[0];
    if (!target) throw new Error('no inspector target');
    const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Inspector(ws);
  }

  call<T = unknown>(method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`inspector ${method} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Forces two full GCs in the control plane through its inspector port, then returns the JS heap in
 * use, so an RSS read afterwards is not inflated by garbage that happens not to be collected yet.
 */
export async function forceGc(inspectPort: number): Promise<{ heapUsedBytes: number }> {
  const insp = await Inspector.open(inspectPort);
  try {
    await insp.call('HeapProfiler.collectGarbage');
    await insp.call('HeapProfiler.collectGarbage');
    const usage = await insp.call<{ usedSize: number }>('Runtime.getHeapUsage');
    return { heapUsedBytes: usage.usedSize };
  } finally {
    insp.close();
  }
}
