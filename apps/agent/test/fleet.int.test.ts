// Real agent processes against a real control plane and PostgreSQL: registration, liveness through
// kill -9 and restarts, a control-plane restart, and revocation.
import { mkdtemp, rm, stat, readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../test/api-client';
import { registrationToken } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { eventually } from '../../../test/eventually';
import { nodeBin, startProcess, type RunningProcess } from '../../../test/processes';

const HEARTBEAT = 1;
const GRACE = 6;
const bin = nodeBin('apps/agent/bin/karvon-agent.js');
let cp: TestControlPlane;
let admin: ApiClient;
const dirs: string[] = [];
const procs: RunningProcess[] = [];

interface NodeView {
  id: string;
  name: string;
  region: string;
  status: string;
  labels: string[];
  facts: { cpu: { cores: number }; memoryMb: number; dockerVersion: string | null; os: { platform: string } };
  capacity: { cpuMillicores: number; memoryMb: number };
  usage: { memoryMb: number };
  lastHeartbeatAt: string | null;
  agentVersion: string;
}

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_HEARTBEAT_SECONDS: String(HEARTBEAT), KARVON_NODE_GRACE_SECONDS: String(GRACE) });
  admin = await cp.adminClient();
});
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await cp?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function agent(args: string[]): RunningProcess {
  const p = startProcess(bin.file, [...bin.args, ...args], { KARVON_LOG_LEVEL: 'info' });
  procs.push(p);
  return p;
}

async function registerAgent(region: string, name: string, labels: string[] = []): Promise<string> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'karvon-agent-'));
  dirs.push(stateDir);
  const token = await registrationToken(admin, region, { labels });
  const p = agent(['register', '--control-plane', cp.url, '--token', token, '--state-dir', stateDir, '--name', name]);
  expect(await p.exited, p.output()).toBe(0);
  return stateDir;
}

async function node(name: string): Promise<NodeView> {
  const res = await admin.get<{ items: NodeView[] }>('/api/v1/admin/nodes');
  const found = res.body.items.find((n) => n.name === name);
  if (!found) throw new Error(`no node ${name}`);
  return found;
}

const status = async (name: string) => (await node(name)).status;

describe('a fleet of two real agents', () => {
  let stateA: string;
  let stateB: string;
  let runA: RunningProcess;
  let runB: RunningProcess;

  it('registers two agents in two regions, with the credential kept 0600', async () => {
    stateA = await registerAgent('tashkent-1', 'alpha', ['builder']);
    stateB = await registerAgent('samarkand-1', 'beta');
    const identity = JSON.parse(await readFile(path.join(stateA, 'node.json'), 'utf8')) as { nodeId: string; credential: string };
    expect(identity.credential).toMatch(/^kvn_/);
    expect((await stat(path.join(stateA, 'node.json'))).mode & 0o777).toBe(0o600);
    expect((await node('alpha')).id).toBe(identity.nodeId);
  });

  it('refuses a reused registration token and creates nothing', async () => {
    const token = await registrationToken(admin, 'tashkent-1');
    const dirA = await mkdtemp(path.join(tmpdir(), 'karvon-agent-'));
    const dirB = await mkdtemp(path.join(tmpdir(), 'karvon-agent-'));
    dirs.push(dirA, dirB);
    expect(await agent(['register', '--control-plane', cp.url, '--token', token, '--state-dir', dirA, '--name', 'gamma']).exited).toBe(0);
    const again = agent(['register', '--control-plane', cp.url, '--token', token, '--state-dir', dirB, '--name', 'delta']);
    expect(await again.exited).toBe(1);
    expect(again.output()).toContain('registration refused');
    const names = (await admin.get<{ items: NodeView[] }>('/api/v1/admin/nodes')).body.items.map((n) => n.name);
    expect(names).toContain('gamma');
    expect(names).not.toContain('delta');
  });

  it('shows both online with real facts in their regions', async () => {
    runA = agent(['run', '--state-dir', stateA]);
    runB = agent(['run', '--state-dir', stateB]);
    await eventually(async () => {
      expect(await status('alpha')).toBe('online');
      expect(await status('beta')).toBe('online');
    }, 15_000);
    const a = await eventually(async () => {
      const n = await node('alpha');
      expect(n.usage.memoryMb).toBeGreaterThan(0);
      return n;
    }, 10_000);
    expect(a).toMatchObject({ region: 'tashkent-1', labels: ['builder'], agentVersion: '0.1.0' });
    expect(a.facts.cpu.cores).toBe(cpus().length);
    expect(a.facts.memoryMb).toBeGreaterThan(100);
    expect(a.facts.os.platform).toBe('linux');
    expect(a.capacity.cpuMillicores).toBeGreaterThan(0);
    expect((await node('beta')).region).toBe('samarkand-1');
  });

  it('kill -9 of one agent shows suspect, then offline within grace + one interval; the other stays online', async () => {
    const killedAt = Date.now();
    runA.kill('SIGKILL');
    await runA.exited;
    await eventually(async () => expect(await status('alpha')).toBe('suspect'), (GRACE + HEARTBEAT) * 1000);
    await eventually(async () => expect(await status('alpha')).toBe('offline'), (GRACE + HEARTBEAT) * 1000 + 2_000);
    expect(Date.now() - killedAt).toBeLessThan((GRACE + HEARTBEAT) * 1000 + 2_500);
    expect(await status('beta')).toBe('online');
  });

  it('comes back online after restart with the same node id', async () => {
    const before = await node('alpha');
    runA = agent(['run', '--state-dir', stateA]);
    await eventually(async () => expect(await status('alpha')).toBe('online'), 15_000);
    expect((await node('alpha')).id).toBe(before.id);
  });

  it('survives a control-plane restart without re-registering', async () => {
    const count = (await admin.get<{ items: NodeView[] }>('/api/v1/admin/nodes')).body.items.length;
    const generation = async (id: string) => Number((await cp.db('nodes').where({ id }).first<{ session_generation: string }>('session_generation')).session_generation);
    const alpha = await node('alpha');
    const genBefore = await generation(alpha.id);
    cp = await cp.restart();
    admin = await cp.adminClient();
    await eventually(async () => {
      expect(await generation(alpha.id)).toBeGreaterThan(genBefore);
      expect(cp.hub.connectedNodeIds()).toEqual(expect.arrayContaining([alpha.id, (await node('beta')).id]));
    }, 30_000);
    expect(await status('alpha')).toBe('online');
    expect(await status('beta')).toBe('online');
    expect((await admin.get<{ items: NodeView[] }>('/api/v1/admin/nodes')).body.items.length).toBe(count);
    expect(runA.child.exitCode).toBeNull();
    expect(runB.child.exitCode).toBeNull();
  });

  it('a revoked node is disconnected at once, its agent stops retrying, and it cannot reconnect', async () => {
    const beta = await node('beta');
    expect((await admin.delete(`/api/v1/admin/nodes/${beta.id}`)).status).toBe(204);
    expect(await runB.exited).toBe(78);
    expect(runB.output()).toContain('removed from the control plane');
    const again = agent(['run', '--state-dir', stateB]);
    expect(await again.exited).toBe(78);
    expect(cp.hub.connectedNodeIds()).not.toContain(beta.id);
  });

  it('admin changes status and labels, and reports capacity per region', async () => {
    const alpha = await node('alpha');
    const patched = await admin.patch<NodeView>(`/api/v1/admin/nodes/${alpha.id}`, { status: 'draining', labels: ['ssd', 'builder'] });
    expect(patched.status).toBe(200);
    // Nothing runs on it, so draining is already over: the node shows `drained`.
    expect(patched.body).toMatchObject({ status: 'drained', labels: ['builder', 'ssd'] });
    expect((await admin.patch(`/api/v1/admin/nodes/${alpha.id}`, { status: 'exploded' })).status).toBe(400);
    expect((await admin.patch(`/api/v1/admin/nodes/${alpha.id}`, {})).status).toBe(400);
    const cap = await admin.get<{ items: Array<{ region: string; nodes: Record<string, number>; total: { cpuMillicores: number } }> }>('/api/v1/admin/capacity');
    const tashkent = cap.body.items.find((r) => r.region === 'tashkent-1')!;
    expect(tashkent.nodes.drained).toBe(1);
    expect(tashkent.total.cpuMillicores).toBeGreaterThan(0);
    await admin.patch(`/api/v1/admin/nodes/${alpha.id}`, { status: 'active' });
    expect(await status('alpha')).toBe('online');
  });
});
