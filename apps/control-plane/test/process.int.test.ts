// The control plane as an operator runs it: the real bin, embedded PostgreSQL in its data dir,
// signals, restarts. Each case starts real processes.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../../test/api-client';
import { freePort } from '../../../test/free-port';
import { nodeBin, startProcess, waitForHttp, type RunningProcess } from '../../../test/processes';

const bin = nodeBin('apps/control-plane/bin/karvon-control-plane.js');
const dirs: string[] = [];
const procs: RunningProcess[] = [];

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'karvon-proc-'));
  dirs.push(d);
  return d;
}

function start(env: Record<string, string>): RunningProcess {
  const p = startProcess(bin.file, bin.args, { KARVON_LOG_LEVEL: 'info', ...env });
  procs.push(p);
  return p;
}

describe('karvon-control-plane with embedded PostgreSQL', () => {
  it('answers /healthz within 10 s, stops cleanly on SIGTERM and keeps its data across a restart', async () => {
    const dataDir = await tempDir();
    const env = {
      KARVON_DATA_DIR: dataDir,
      KARVON_PORT: String(await freePort()),
      KARVON_EMBEDDED_PG_PORT: String(await freePort()),
    };
    const base = `http://127.0.0.1:${env.KARVON_PORT}`;
    const first = start(env);
    await waitForHttp(`${base}/readyz`, 10_000);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const api = new ApiClient(base);
    expect((await api.register('keep@example.test', 'kept across restarts')).status).toBe(201);
    expect((await stat(path.join(dataDir, 'master.key'))).mode & 0o777).toBe(0o600);

    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');
    // The embedded server went down with it: its port is free again.
    await expect(canListen(Number(env.KARVON_EMBEDDED_PG_PORT))).resolves.toBe(true);

    const second = start(env);
    await waitForHttp(`${base}/readyz`, 10_000);
    const login = await api.login('keep@example.test', 'kept across restarts');
    expect(login.status).toBe(200);
    second.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('says clearly that the port is taken, without a stack trace', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', resolve));
    try {
      const p = start({ KARVON_DATA_DIR: await tempDir(), KARVON_PORT: String(port), KARVON_EMBEDDED_PG_PORT: String(await freePort()) });
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`port ${port} is already in use`);
      expect(p.output()).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });

  it('refuses bad settings, naming every one, before starting anything', async () => {
    const dataDir = await tempDir();
    const p = start({ KARVON_DATA_DIR: dataDir, KARVON_PORT: 'http', KARVON_HEARTBEAT_SECONDS: '0' });
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('KARVON_PORT');
    expect(p.output()).toContain('KARVON_HEARTBEAT_SECONDS');
    await expect(stat(path.join(dataDir, 'postgres'))).rejects.toThrow();
  });

  it('answers /readyz 503 while its database is down and recovers by itself', async () => {
    const pgDir = await tempDir();
    const { startEmbeddedPostgres } = await import('../src/db/embedded-postgres');
    const pgPort = await freePort();
    let pg = await startEmbeddedPostgres({ dataDir: pgDir, port: pgPort });
    const port = await freePort();
    const p = start({ KARVON_DATA_DIR: await tempDir(), KARVON_PORT: String(port), DATABASE_URL: pg.url });
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${base}/readyz`, 10_000);
      await pg.stop();
      await waitForHttp(`${base}/readyz`, 10_000, 503);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      pg = await startEmbeddedPostgres({ dataDir: pgDir, port: pgPort });
      await waitForHttp(`${base}/readyz`, 15_000, 200);
    } finally {
      p.kill('SIGTERM');
      await p.exited;
      await pg.stop();
    }
  });
});

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
