// The built control plane as a separate process, like bench/hub/control-plane-process.ts, but with
// extra environment: that launcher builds a fixed environment (no way to pass
// KARVON_MUTATIONS_PER_MINUTE / KARVON_MUTATION_BURST), and bench/hub/ is not ours to change. Only
// the spawn differs; the helpers (ports, /proc, the admin) are imported from the hub bench.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ADMIN, REPO_ROOT, sleep } from '../hub/control-plane-process';
import { cmdline, commOf, descendants, isAlive } from '../hub/proc';

const BIN = path.join(REPO_ROOT, 'apps', 'control-plane', 'bin', 'karvon-control-plane.js');
const DIST = path.join(REPO_ROOT, 'apps', 'control-plane', 'dist', 'main.js');

export interface ApiControlPlane {
  pid: number;
  url: string;
  startMs: number;
  postgresPid: number | undefined;
  stop(): Promise<void>;
  output(): string;
}

export interface ApiControlPlaneSettings {
  dataDir: string;
  port: number;
  pgPort: number;
  heartbeatSeconds: number;
  /** `--inspect=127.0.0.1:<port>`, for CPU profiles through bench/hub/profile.ts */
  inspectPort?: number;
  /** more KARVON_* settings */
  env: Record<string, string>;
}

/** `npm run build` when the control plane's bundle is missing (never rebuilds an existing one). */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(DIST)) return;
  const child = spawn('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0 || !existsSync(DIST)) throw new Error(`npm run build failed (${code})`);
}

export async function startApiControlPlane(s: ApiControlPlaneSettings, timeoutMs = 90_000): Promise<ApiControlPlane> {
  const nodeArgs = s.inspectPort === undefined ? [] : [`--inspect=127.0.0.1:${s.inspectPort}`];
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
    KARVON_NODE_GRACE_SECONDS: String(Math.max(90, s.heartbeatSeconds * 3)),
    KARVON_LOG_LEVEL: 'warn',
    ...s.env,
  };
  const started = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, BIN], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-8_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error('control plane did not start');
  const url = `http://127.0.0.1:${s.port}`;
  let postgresPid: number | undefined;
  const findPostgres = () => {
    postgresPid ??= descendants(pid).find((p) => commOf(p) === 'postgres' && (cmdline(p) ?? '').includes(s.dataDir));
  };
  const running = () => child.exitCode === null && child.signalCode === null;

  const cp: ApiControlPlane = {
    pid,
    url,
    startMs: 0,
    get postgresPid() {
      return postgresPid;
    },
    output: () => out,
    async stop() {
      findPostgres();
      if (running()) {
        child.kill('SIGTERM');
        const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
        if (!done) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      // A control plane killed hard leaves its postmaster behind (only ours: checked by data dir).
      if (postgresPid !== undefined && isAlive(postgresPid) && (cmdline(postgresPid) ?? '').includes(s.dataDir)) {
        process.kill(postgresPid, 'SIGINT');
        for (let i = 0; i < 100 && isAlive(postgresPid); i++) await sleep(100);
        if (isAlive(postgresPid)) process.kill(postgresPid, 'SIGKILL');
      }
    },
  };

  try {
    for (;;) {
      if (!running()) throw new Error(`control plane exited during start:\n${out}`);
      if (Date.now() - started > timeoutMs) throw new Error(`control plane not ready within ${timeoutMs} ms:\n${out}`);
      const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
        async (res) => {
          await res.body?.cancel();
          return res.status === 200;
        },
        () => false,
      );
      if (ok) break;
      await sleep(50);
    }
    cp.startMs = Date.now() - started;
    findPostgres();
    return cp;
  } catch (e) {
    await cp.stop();
    throw e;
  }
}
