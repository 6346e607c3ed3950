// Per-allocation metrics through the hub: a raw agent's heartbeats carry allocation stats, the
// liveness flush writes one point per allocation and minute (the minute's last sample), with the
// app taken from the allocation row, in the flush's one transaction. Only Date is faked (to step
// through minutes without waiting for them); timers, sockets and PostgreSQL are real.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../../../test/api-client';
import { agentToken, connectRawAgent, registerNode, sampleHeartbeat, type RawAgent } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { createAppFixture } from '../../../test/fixtures';

let cp: TestControlPlane;
let admin: ApiClient;
const open: RawAgent[] = [];

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_HEARTBEAT_SECONDS: '30' });
  admin = await cp.adminClient();
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  for (const a of open) a.ws.terminate();
  await cp?.stop();
});

async function admitted(region: string) {
  const node = await registerNode(admin, region);
  const agent = await connectRawAgent(cp.url, await agentToken(cp.api, node.credential));
  open.push(agent);
  agent.hello();
  await agent.nextFrame('welcome');
  return { agent, nodeId: node.nodeId };
}

/** Sends a heartbeat and waits until the hub has handled it: frames on one socket are handled in
 * order, so the answer to a token refresh sent after it proves it was. */
async function heartbeat(agent: RawAgent, allocations: unknown[]): Promise<void> {
  agent.send('heartbeat', sampleHeartbeat({ allocations }));
  agent.send('token-refresh-request', {});
  await agent.nextFrame('token-refresh');
}

const at = (iso: string) => vi.setSystemTime(new Date(iso));

interface Row {
  allocation_id: string;
  app_id: string;
  node_id: string;
  at: Date;
  cpu_percent: number;
  memory_mb: number;
  net_rx_bytes: string;
  net_tx_bytes: string;
}

describe('allocation metrics', () => {
  it("writes one point per allocation and minute, the minute's last sample, with the allocation's app", async () => {
    const { agent, nodeId } = await admitted('am-1');
    const app = await createAppFixture(cp.db, 'am-1');
    const placed = await cp.planner.placeReplicas({ appId: app.appId, releaseId: app.releaseId, region: 'am-1', resources: { cpuMillicores: 100, memoryMb: 64, diskMb: 10 }, replicas: 1, policy: 'spread', spec: app.spec });
    expect(placed.ok).toBe(true);
    const allocationId = placed.ok ? placed.allocations[0]!.id : '';
    const stats = (cpu: number, rx: number) => ({ allocationId, state: 'healthy', restarts: 0, cpuPercent: cpu, memoryMb: cpu * 10, netRxBytes: rx, netTxBytes: rx * 2 });

    vi.useFakeTimers({ toFake: ['Date'] });
    at('2030-01-01T00:00:05Z');
    await heartbeat(agent, [stats(10, 100)]);
    at('2030-01-01T00:00:35Z');
    await heartbeat(agent, [stats(20, 200)]);
    at('2030-01-01T00:00:59.999Z');
    await heartbeat(agent, [stats(30, 300)]);
    at('2030-01-01T00:01:20Z');
    await heartbeat(agent, [stats(40, 400)]);
    at('2030-01-01T00:01:50Z');
    await heartbeat(agent, [stats(45, 450)]);
    at('2030-01-01T00:02:10Z');
    await heartbeat(agent, [stats(50, 500)]);

    await cp.liveness.flush();
    const rows = await cp.db('allocation_metrics').where({ allocation_id: allocationId }).orderBy('at').select<Row[]>('*');
    expect(rows.map((r) => ({ ...r, at: r.at.toISOString() }))).toEqual([
      { allocation_id: allocationId, app_id: app.appId, node_id: nodeId, at: '2030-01-01T00:00:00.000Z', cpu_percent: 30, memory_mb: 300, net_rx_bytes: '300', net_tx_bytes: '600' },
      { allocation_id: allocationId, app_id: app.appId, node_id: nodeId, at: '2030-01-01T00:01:00.000Z', cpu_percent: 45, memory_mb: 450, net_rx_bytes: '450', net_tx_bytes: '900' },
    ]);

    // The session ending closes its current minute; a flush with nothing new writes nothing again.
    agent.ws.close();
    await agent.closed;
    await cp.liveness.flush();
    await cp.liveness.flush();
    const after = await cp.db('allocation_metrics').where({ allocation_id: allocationId }).orderBy('at').select<Row[]>('at', 'cpu_percent');
    expect(after.map((r) => [r.at.toISOString(), r.cpu_percent])).toEqual([
      ['2030-01-01T00:00:00.000Z', 30],
      ['2030-01-01T00:01:00.000Z', 45],
      ['2030-01-01T00:02:00.000Z', 50],
    ]);

    // What the app metrics API serves reads these points.
    const { appMetrics } = await import('../src/apps/app-instances');
    const served = await appMetrics(cp.db, app.appId, new Date('2030-01-01T00:00:00Z'));
    expect(served.map((p) => [p.at, p.instances, p.cpuPercent])).toEqual([
      ['2030-01-01T00:00:00.000Z', 1, 30],
      ['2030-01-01T00:01:00.000Z', 1, 45],
      ['2030-01-01T00:02:00.000Z', 1, 50],
    ]);
  });

  it("records nothing for another node's allocation, an unknown one, or an allocation reported without stats", async () => {
    const mine = await admitted('am-2');
    const other = await admitted('am-2');
    const app = await createAppFixture(cp.db, 'am-2');
    const placed = await cp.planner.placeReplicas({ appId: app.appId, releaseId: app.releaseId, region: 'am-2', resources: { cpuMillicores: 100, memoryMb: 64, diskMb: 10 }, replicas: 2, policy: 'spread', spec: app.spec });
    expect(placed.ok).toBe(true);
    const allocs = placed.ok ? placed.allocations : [];
    const onMine = allocs.find((a) => a.nodeId === mine.nodeId)!.id;
    const onOther = allocs.find((a) => a.nodeId === other.nodeId)!.id;

    vi.useFakeTimers({ toFake: ['Date'] });
    at('2031-01-01T00:00:10Z');
    await heartbeat(mine.agent, [
      { allocationId: onMine, state: 'healthy', restarts: 0 },
      { allocationId: onOther, state: 'healthy', restarts: 0, cpuPercent: 99, memoryMb: 1 },
      { allocationId: 'alloc_unknown', state: 'healthy', restarts: 0, cpuPercent: 99 },
    ]);
    at('2031-01-01T00:01:10Z');
    await heartbeat(mine.agent, []);
    await cp.liveness.flush();
    expect(await cp.db('allocation_metrics').whereIn('allocation_id', [onMine, onOther, 'alloc_unknown']).count<Array<{ count: string }>>('* as count')).toEqual([{ count: '0' }]);
  });

  it('refuses a heartbeat with bad allocation stats with a coded error, keeps the socket, and records nothing from it', async () => {
    const { agent } = await admitted('am-3');
    const bad = [
      { allocationId: 'alloc_x', state: 'healthy', restarts: 0, cpuPercent: -1 },
      { allocationId: 'alloc_x', state: 'healthy', restarts: 0, netRxBytes: 1.5 },
      { allocationId: 'alloc_x', state: 'healthy', restarts: 0, netTxBytes: '10' },
    ];
    for (const allocation of bad) {
      agent.send('heartbeat', sampleHeartbeat({ allocations: [allocation] }));
      const error = await agent.nextFrame('error');
      expect(error.payload).toMatchObject({ code: 'INVALID_FRAME', recoverable: true });
      expect(String(error.payload.message)).toContain('allocations');
    }
    // still served
    agent.send('token-refresh-request', {});
    await agent.nextFrame('token-refresh');
  });

  it('the metrics pruner deletes allocation points older than seven days, and keeps the rest', async () => {
    const app = await createAppFixture(cp.db, 'am-4');
    const row = (id: string, age: string) => ({ allocation_id: id, app_id: app.appId, node_id: 'node_pruned', at: cp.db.raw(`date_trunc('minute', now() - interval '${age}')`), cpu_percent: 1, memory_mb: 1 });
    await cp.db('allocation_metrics').insert([row('alloc_old', '8 days'), row('alloc_recent', '6 days'), row('alloc_now', '0 days')]);
    const { createMetricsPruner } = await import('../src/jobs/metrics-pruner');
    const pruner = createMetricsPruner({ db: cp.db, logger: (await import('pino')).pino({ level: 'silent' }) });
    expect(await pruner.prune()).toBeGreaterThanOrEqual(1);
    const left = await cp.db('allocation_metrics').where({ app_id: app.appId }).orderBy('allocation_id').pluck('allocation_id');
    expect(left).toEqual(['alloc_now', 'alloc_recent']);
  });
});
