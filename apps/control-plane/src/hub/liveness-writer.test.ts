// The liveness writer against a real database: a replica's change of state is written soon and
// heard by listeners, plain heartbeats wait for the regular flush. The regular period here is an
// hour, so whatever reaches the database before it came through the early path.
import pino from 'pino';
import type { AllocationStatus } from '@karvon/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedTestDatabase } from '../../../../test/database';
import { eventually } from '../../../../test/eventually';
import { createAppFixture, createNodeFixture } from '../../../../test/fixtures';
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { LiveNodes, type NodeUsage } from './live-nodes';
import { createLivenessWriter, type LivenessWriter } from './liveness-writer';

let db: Db;
let close: (() => Promise<void>) | undefined;
const writers: LivenessWriter[] = [];
const logger = pino({ level: 'silent' });
const HOUR = 3_600_000;

beforeAll(async () => {
  ({ db, close } = await createMigratedTestDatabase());
});

afterAll(async () => {
  for (const w of writers) await w.stop();
  await close?.();
});

const usage = (cpuPercent = 10): NodeUsage => ({ cpuPercent, load1: 0, memoryUsedMb: 100, memoryTotalMb: 1000, diskUsedMb: 100, diskTotalMb: 1000, netRxBytes: 0, netTxBytes: 0, containerCount: 1 });

async function setUp(region: string) {
  const nodeId = await createNodeFixture(db, region, { cpuMillicores: 4000, memoryMb: 4096, diskMb: 10_000 });
  const app = await createAppFixture(db, region);
  const allocationId = newId('alloc');
  await db('allocations').insert({ id: allocationId, app_id: app.appId, node_id: nodeId, cpu_millicores: 250, memory_mb: 128, disk_mb: 512 });
  const live = new LiveNodes(1);
  const writer = createLivenessWriter({ db, live, logger, timings: { heartbeatSeconds: 30, graceSeconds: 90 }, periodMs: HOUR });
  writers.push(writer);
  let heard = 0;
  writer.onStateChanges(() => (heard += 1));
  writer.start();
  live.connected(nodeId);
  const status = (state: AllocationStatus['state'], over: Partial<AllocationStatus> = {}): AllocationStatus => ({ allocationId, state, restarts: 0, ...over });
  const row = () => db('allocations').where({ id: allocationId }).first<{ actual_status: string; upstream: string | null; cpu_percent: number | null }>();
  return { live, writer, nodeId, status, row, heard: () => heard };
}

describe('liveness writer: allocation state changes', () => {
  it('writes a state change soon, with the heartbeats waiting beside it, in one transaction, and tells the listeners', async () => {
    const s = await setUp('lw-1');
    // The session's first report is no change: it waits for the regular flush.
    s.live.heartbeat(s.nodeId, usage(), Date.now(), [s.status('starting')]);
    // Only numbers change: still nothing early.
    s.live.heartbeat(s.nodeId, usage(20), Date.now(), [s.status('starting', { cpuPercent: 5 })]);
    await new Promise((r) => setTimeout(r, 300));
    expect(s.writer.transactions).toBe(0);
    expect((await s.row())?.actual_status).toBe('pending');

    s.live.heartbeat(s.nodeId, usage(30), Date.now(), [s.status('healthy', { upstream: '127.0.0.1:4100', cpuPercent: 7 })]);
    await eventually(async () => expect(await s.row()).toMatchObject({ actual_status: 'healthy', upstream: '127.0.0.1:4100', cpu_percent: 7 }));
    expect(s.writer.transactions).toBe(1);
    await eventually(() => expect(s.heard()).toBe(1));
    const node = await db('nodes').where({ id: s.nodeId }).first<{ usage: { cpuPercent: number } }>();
    expect(node?.usage.cpuPercent).toBe(30);
  });

  it('coalesces a stream of changes into flushes at least a gap apart, and a failed replica is a change too', async () => {
    const s = await setUp('lw-2');
    s.live.heartbeat(s.nodeId, usage(), Date.now(), [s.status('starting')]);
    const states: AllocationStatus['state'][] = ['healthy', 'unhealthy', 'healthy', 'unhealthy', 'healthy', 'failed'];
    const started = Date.now();
    for (const state of states) s.live.heartbeat(s.nodeId, usage(), Date.now(), [s.status(state)]);
    await eventually(async () => expect((await s.row())?.actual_status).toBe('failed'));
    const elapsed = Date.now() - started;
    // Six changes in a burst: one flush per 250 ms gap at most (plus the first), not six.
    expect(s.writer.transactions).toBeLessThanOrEqual(2 + Math.floor(elapsed / 250));
    expect(s.writer.transactions).toBeLessThan(states.length);
    expect(s.heard()).toBe(s.writer.transactions);
  });

  it('leaves plain heartbeats to the regular flush', async () => {
    const s = await setUp('lw-3');
    for (let i = 0; i < 20; i++) s.live.heartbeat(s.nodeId, usage(i), Date.now(), [s.status('healthy', { upstream: '127.0.0.1:4200', cpuPercent: i })]);
    await new Promise((r) => setTimeout(r, 300));
    expect(s.writer.transactions).toBe(0);
    await s.writer.flush();
    expect(await s.row()).toMatchObject({ actual_status: 'healthy', cpu_percent: 19 });
    expect(s.heard()).toBe(0);
  });
});
