// Placement and task dispatch end to end with a real agent process: desired state delivered and
// acknowledged, tasks run once in effect through agent kills and control-plane restarts.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../test/api-client';
import { registrationToken } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { eventually } from '../../../test/eventually';
import { createAppFixture } from '../../../test/fixtures';
import { newDocker } from '../../../test/docker/engine';
import { nodeBin, startProcess, type RunningProcess } from '../../../test/processes';
import { removeNodeObjects } from './runtime-fixtures';
import { connectDatabase } from '../../control-plane/src/db/connect';
import { createPlanner } from '../../control-plane/src/planner/planner';
import { enqueueTask } from '../../control-plane/src/dispatch/task-queue';
import { createRng } from '../../control-plane/src/scheduler';

const REGION = 'dispatch-1';
const bin = nodeBin('apps/agent/bin/karvon-agent.js');
let cp: TestControlPlane;
let admin: ApiClient;
let stateDir: string;
let nodeId: string;
let agent: RunningProcess;
const procs: RunningProcess[] = [];

// A long poll: deliveries in these tests must come from the NOTIFY wake-up or a (re)connect.
const options = { dispatchPollMs: 60_000 };

function runAgent(): RunningProcess {
  const p = startProcess(bin.file, [...bin.args, 'run', '--state-dir', stateDir], { KARVON_LOG_LEVEL: 'info' });
  procs.push(p);
  return p;
}

async function generations(): Promise<{ desired: number; applied: number }> {
  const n = await cp.db('nodes').where({ id: nodeId }).first<{ desired_generation: string; applied_generation: string }>();
  return { desired: Number(n.desired_generation), applied: Number(n.applied_generation) };
}

async function agentDesiredState(): Promise<{ generation: number; allocations: Array<{ id: string; env: Record<string, string> }> }> {
  return JSON.parse(await readFile(path.join(stateDir, 'desired-state.json'), 'utf8')) as { generation: number; allocations: Array<{ id: string; env: Record<string, string> }> };
}

async function journal(key: string): Promise<{ executions: number; status: string }> {
  const file = path.join(stateDir, 'tasks', `${createHash('sha256').update(key).digest('hex')}.json`);
  return JSON.parse(await readFile(file, 'utf8')) as { executions: number; status: string };
}

const task = (key: string, durationMs = 0) => ({
  nodeId,
  kind: 'noop' as const,
  payload: { echo: key, ...(durationMs ? { durationMs } : {}) },
  idempotencyKey: key,
  deadline: new Date(Date.now() + 120_000),
});

const taskRow = (key: string) => cp.db('tasks').where({ idempotency_key: key }).first<{ state: string; attempts: number; result: unknown }>();

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_HEARTBEAT_SECONDS: '1', KARVON_NODE_GRACE_SECONDS: '30', KARVON_DEGRADED_PERCENT: '100' }, options);
  admin = await cp.adminClient();
  stateDir = await mkdtemp(path.join(tmpdir(), 'karvon-dispatch-'));
  const token = await registrationToken(admin, REGION);
  const reg = startProcess(bin.file, [...bin.args, 'register', '--control-plane', cp.url, '--token', token, '--state-dir', stateDir, '--name', 'worker'], {});
  expect(await reg.exited, reg.output()).toBe(0);
  nodeId = (JSON.parse(await readFile(path.join(stateDir, 'node.json'), 'utf8')) as { nodeId: string }).nodeId;
  agent = runAgent();
  await eventually(() => expect(cp.hub.sessionGeneration(nodeId)).toBeDefined(), 15_000);
  await eventually(async () => expect((await cp.db('nodes').where({ id: nodeId }).first<{ liveness: string }>()).liveness).toBe('online'), 10_000);
});

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  // The agent really runs what was placed (the runtime converges on desired state): remove it.
  if (nodeId) await removeNodeObjects(newDocker(), nodeId).catch(() => undefined);
  await cp?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe('desired state', () => {
  it('turns a placement into a desired-state change the agent records and acknowledges', async () => {
    const app = await createAppFixture(cp.db, REGION);
    const res = await cp.planner.placeReplicas({ appId: app.appId, releaseId: app.releaseId, region: REGION, resources: { cpuMillicores: 100, memoryMb: 64, diskMb: 10 }, replicas: 2, spec: app.spec });
    expect(res.ok).toBe(true);
    const ids = res.ok ? res.allocations.map((a) => a.id).sort() : [];
    await eventually(async () => {
      const g = await generations();
      expect(g.applied).toBe(g.desired);
      expect(g.desired).toBeGreaterThan(0);
    }, 10_000);
    const state = await agentDesiredState();
    expect(state.allocations.map((a) => a.id).sort()).toEqual(ids);
    expect(state.allocations[0]!.env).toEqual({ GREETING: 'hi' });
  });

  it('loses nothing when the control plane dies between commit and dispatch', async () => {
    const startAgain = await cp.halt();
    // The plan is committed by "another process" while no control plane holds the agent's socket.
    const db = connectDatabase(cp.databaseUrl);
    try {
      const app = await createAppFixture(db, REGION);
      const res = await createPlanner({ db, rng: createRng(7) }).placeReplicas({
        appId: app.appId, releaseId: app.releaseId, region: REGION, resources: { cpuMillicores: 100, memoryMb: 64, diskMb: 10 }, replicas: 1, spec: app.spec,
      });
      expect(res.ok).toBe(true);
      const committed = res.ok ? res.allocations[0]!.id : '';
      await enqueueTask(db, task('while-down'));
      cp = await startAgain();
      await eventually(async () => {
        expect((await agentDesiredState()).allocations.map((a) => a.id)).toContain(committed);
        const g = await generations();
        expect(g.applied).toBe(g.desired);
        expect((await taskRow('while-down')).state).toBe('succeeded');
      }, 30_000);
    } finally {
      await db.destroy();
    }
  });
});

describe('tasks', () => {
  it('delivers a task committed by another process (NOTIFY) and records the result once', async () => {
    const db = connectDatabase(cp.databaseUrl);
    try {
      const first = await enqueueTask(db, task('hello-task'));
      const again = await enqueueTask(db, task('hello-task'));
      expect(again).toEqual({ id: first.id, created: false });
    } finally {
      await db.destroy();
    }
    await eventually(async () => expect((await taskRow('hello-task'))).toMatchObject({ state: 'succeeded', attempts: 1, result: { echo: 'hello-task' } }), 10_000);
    expect(await journal('hello-task')).toMatchObject({ executions: 1, status: 'finished' });
  });

  it('runs a task once in effect when the agent is killed before it acknowledges', async () => {
    agent.kill('SIGSTOP');
    const { id } = await enqueueTask(cp.db, task('frozen-task'));
    await eventually(async () => expect((await cp.db('tasks').where({ id }).first<{ state: string }>()).state).toBe('dispatched'), 10_000);
    agent.kill('SIGKILL');
    await agent.exited;
    await expect(journal('frozen-task')).rejects.toThrow();
    agent = runAgent();
    await eventually(async () => expect((await taskRow('frozen-task')).state, agent.output()).toBe('succeeded'), 20_000);
    // Delivered again after the restart (a reconnect on a loaded machine may cost one delivery
    // more); executed once: the journal is the proof of "once in effect".
    expect((await taskRow('frozen-task')).attempts).toBeGreaterThanOrEqual(2);
    expect(await journal('frozen-task')).toMatchObject({ executions: 1, status: 'finished' });
  });

  it('answers a redelivered finished task from the journal instead of running it again', async () => {
    await eventually(() => expect(cp.hub.sessionGeneration(nodeId)).toBeDefined(), 15_000);
    await enqueueTask(cp.db, task('lost-result'));
    await eventually(async () => expect((await taskRow('lost-result')).state).toBe('succeeded'), 10_000);
    // As if the result frame had been lost: the control plane still thinks the task is open.
    await cp.db('tasks').where({ idempotency_key: 'lost-result' }).update({ state: 'acknowledged', result: null });
    agent.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    agent = runAgent();
    await eventually(async () => expect((await taskRow('lost-result'))).toMatchObject({ state: 'succeeded', result: { echo: 'lost-result' } }), 20_000);
    expect(await journal('lost-result')).toMatchObject({ executions: 1 });
  });

  it('times out a task whose deadline passes, and dead-letters one that keeps failing', async () => {
    await eventually(() => expect(cp.hub.sessionGeneration(nodeId)).toBeDefined(), 15_000);
    const { id } = await enqueueTask(cp.db, { ...task('too-slow', 60_000), deadline: new Date(Date.now() + 1_500) });
    const { expireOverdue } = await import('../../control-plane/src/dispatch/task-queue');
    await eventually(async () => {
      await expireOverdue(cp.db);
      expect((await cp.db('tasks').where({ id }).first<{ state: string }>()).state).toBe('timed-out');
    }, 10_000);
    // Logs of an allocation this node does not have fail on the agent every time: three attempts, then dead.
    const failing = await enqueueTask(cp.db, {
      nodeId,
      kind: 'stream-logs',
      payload: { allocationId: 'alloc_nothere0000000000000', tail: 10, follow: false },
      idempotencyKey: 'logs-nothere-1',
      deadline: new Date(Date.now() + 120_000),
    });
    await eventually(async () => expect((await cp.db('tasks').where({ id: failing.id }).first<{ state: string; attempts: number }>())).toMatchObject({ state: 'queued' }), 10_000);
    // Speed up the backoff between attempts and let the poll-free path wake it.
    for (let i = 0; i < 3; i++) {
      await cp.db('tasks').where({ id: failing.id, state: 'queued' }).update({ next_attempt_at: cp.db.fn.now() });
      cp.dispatcher.wake([nodeId]);
      await new Promise((r) => setTimeout(r, 500));
    }
    await eventually(async () => {
      const row = await cp.db('tasks').where({ id: failing.id }).first<{ state: string; attempts: number; last_error: { code: string } }>();
      if (row.state === 'queued') {
        await cp.db('tasks').where({ id: failing.id, state: 'queued' }).update({ next_attempt_at: cp.db.fn.now() });
        cp.dispatcher.wake([nodeId]);
      }
      // A delivery whose answer was cut off by a reconnect (this machine is saturated during CI)
      // is one more attempt; the task still ends dead with the agent's error.
      expect(row).toMatchObject({ state: 'dead', last_error: { code: 'NOT_FOUND' } });
      expect(row.attempts).toBeGreaterThanOrEqual(3);
    }, 45_000);
  });
});
