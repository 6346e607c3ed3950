// `npm start` end to end: scripts/start.mjs in a child process with its own data dir and ports.
// It prints the URL, seeds through the API, registers one local node that comes online; SIGINT
// stops it with exit 0 and no agent left behind; a second start reuses the node and the seeds.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../scripts/quickstart/api-client.mjs';
import { DEFAULT_PLANS, DEFAULT_RUNTIMES } from '../scripts/quickstart/seed-catalog.mjs';
import { describeDocker, newDocker } from './docker/engine';
import { freePort } from './free-port';
import { startProcess, type RunningProcess } from './processes';

const START_TIMEOUT_MS = 150_000;

type Items<T = unknown> = { items: T[] };

interface NodeItem {
  id: string;
  name: string;
  region: string;
  status: string;
}

/** Whether a process with this pid still exists (signal 0 only asks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of `karvon-agent run --state-dir <stateDir>`, from /proc (it is a grandchild of the test). */
async function agentPid(stateDir: string): Promise<number | undefined> {
  const { readdir } = await import('node:fs/promises');
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const argv = cmdline.split('\0');
    if (argv.some((a) => a.endsWith('karvon-agent.js')) && argv.includes('run') && argv.includes(stateDir)) return Number(entry);
  }
  return undefined;
}

await describeDocker('npm start (quickstart)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let url: string;
  let running: RunningProcess | undefined;
  let nodeIds: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'karvon-quickstart-'));
    const [port, pgPort, challengePort] = [await freePort(), await freePort(), await freePort()];
    url = `http://127.0.0.1:${port}`;
    env = {
      KARVON_DATA_DIR: dataDir,
      KARVON_PORT: String(port),
      KARVON_HOST: '127.0.0.1',
      KARVON_EMBEDDED_PG_PORT: String(pgPort),
      KARVON_CHALLENGE_PORT: String(challengePort),
      KARVON_PORT_RANGE: '29000-29099',
      KARVON_LOG_LEVEL: 'warn',
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    };
  });

  // A test that failed before its own stop must not leave the next one an occupied port.
  afterEach(async () => {
    if (!running || running.child.exitCode !== null || running.child.signalCode !== null) return;
    running.kill('SIGINT');
    await running.exited;
  });

  afterAll(async () => {
    running?.kill('SIGKILL');
    const pid = await agentPid(path.join(dataDir, 'agent'));
    if (pid) process.kill(pid, 'SIGKILL');
    const docker = newDocker();
    for (const id of nodeIds) {
      const containers = await docker.listContainers({ all: true, filters: { label: [`karvon.node=${id}`] } });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startQuickstart(): Promise<RunningProcess> {
    const p = startProcess(process.execPath, ['scripts/start.mjs'], env);
    running = p;
    // The banner's last line: "Karvon is running" and the admin login are separate writes, so
    // waiting for the first alone can read the output before the login line has arrived.
    await p.waitForOutput(/Karvon is running: http:\/\/localhost:\d+[\s\S]*Ctrl-C stops everything/, START_TIMEOUT_MS);
    return p;
  }

  async function stopQuickstart(p: RunningProcess): Promise<void> {
    const stateDir = path.join(dataDir, 'agent');
    const pid = await agentPid(stateDir);
    expect(pid, 'the agent child runs while the quickstart does').toBeDefined();
    p.kill('SIGINT');
    expect(await p.exited).toBe(0);
    expect(alive(pid!), 'the agent is gone after Ctrl-C').toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }

  it('starts everything, seeds, registers a local node that comes online, and stops cleanly', async () => {
    const p = await startQuickstart();
    expect(p.output()).toMatch(/admin login: admin@karvon\.localhost \/ \S{20,}/);
    const adminFile = path.join(dataDir, 'quickstart-admin.json');
    expect((await stat(adminFile)).mode & 0o777).toBe(0o600);
    const admin = JSON.parse(await readFile(adminFile, 'utf8')) as { email: string; password: string };
    const api = await loginAs(url, admin);

    expect((await api.request<Items<{ id: string }>>('GET', '/regions')).body.items.map((r) => r.id)).toEqual(['local']);
    expect((await api.request<Items>('GET', '/admin/plans')).body.items).toHaveLength(DEFAULT_PLANS.length);
    expect((await api.request<Items>('GET', '/admin/runtimes')).body.items).toHaveLength(DEFAULT_RUNTIMES.length);

    const nodes = (await api.request<Items<NodeItem>>('GET', '/admin/nodes')).body.items;
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ name: 'local', region: 'local', status: 'online' });
    nodeIds = [nodes[0]!.id];
    expect(p.output()).toContain(`node ${nodes[0]!.id} is online`);
    await stopQuickstart(p);
  }, 240_000);

  it('reuses the data, the admin, the seeds and the node when started again', async () => {
    const p = await startQuickstart();
    expect(p.output()).toContain(`reusing node ${nodeIds[0]}`);
    expect(p.output()).toContain('region, plans and runtimes already there');
    expect(p.output()).not.toMatch(/admin login: \S+ \/ /);
    const admin = JSON.parse(await readFile(path.join(dataDir, 'quickstart-admin.json'), 'utf8')) as { email: string; password: string };
    const api = await loginAs(url, admin);
    const nodes = (await api.request<Items<NodeItem>>('GET', '/admin/nodes')).body.items;
    expect(nodes.map((n) => n.id)).toEqual(nodeIds);
    await expect.poll(async () => (await api.request<NodeItem>('GET', `/admin/nodes/${nodeIds[0]}`)).body.status, { timeout: 30_000 }).toBe('online');
    expect((await api.request<Items>('GET', '/admin/plans')).body.items).toHaveLength(DEFAULT_PLANS.length);
    await stopQuickstart(p);
  }, 240_000);
});

describe('npm start on a taken port', () => {
  it('says so in one sentence and exits 1 before starting anything', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const dataDir = await mkdtemp(path.join(tmpdir(), 'karvon-quickstart-taken-'));
    try {
      const p = startProcess(process.execPath, ['scripts/start.mjs'], { KARVON_DATA_DIR: dataDir, KARVON_PORT: String(port), KARVON_HOST: '127.0.0.1' });
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      expect(p.output()).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
