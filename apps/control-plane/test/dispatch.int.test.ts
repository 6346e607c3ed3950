// Batched dispatch against a real PostgreSQL: two dispatchers, each with its own pool and LISTEN
// connection as two control-plane processes have, in front of fake socket holders that record the
// frames they are handed. End to end with real agent processes: apps/agent/test/dispatch.int.test.ts.
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, Task } from '@karvon/protocol';
import { connectDatabase, type Db } from '../src/db/connect';
import { migrateToLatest } from '../src/db/migrate';
import { createDispatcher, type Dispatcher, type SessionsHere } from '../src/dispatch/dispatcher';
import { listenForNodeWork, NODE_CHANNEL, type NodeWakeups } from '../src/dispatch/node-wakeups';
import { claimForDispatch, enqueueTask, enqueueTasks, type NewTask } from '../src/dispatch/task-queue';
import { applyStateAcks } from '../src/dispatch/task-replies';
import { commitPlacements } from '../src/planner/commit-placements';
import { createTestDatabase } from '../../../test/database';
import { eventually } from '../../../test/eventually';
import { createAppFixture, createNodeFixture } from '../../../test/fixtures';

const REGION = 'dispatch-int';
const logger = pino({ level: 'silent' });
let database: { url: string; drop(): Promise<void> };
let db: Db;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = connectDatabase(database.url);
  await migrateToLatest(db);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

/** What a hub would be for the dispatcher: the sockets "held here" and the frames sent on them. */
class FakeSockets implements SessionsHere {
  readonly held = new Map<string, number>();
  readonly sent: Array<{ nodeId: string; frame: Frame }> = [];
  readonly revoked: string[] = [];
  sessionGeneration(nodeId: string): number | undefined {
    return this.held.get(nodeId);
  }
  send(nodeId: string, frame: Frame): boolean {
    if (!this.held.has(nodeId)) return false;
    this.sent.push({ nodeId, frame });
    return true;
  }
  connectedNodeIds(): string[] {
    return [...this.held.keys()];
  }
  revoke(nodeId: string): void {
    this.revoked.push(nodeId);
    this.held.delete(nodeId);
  }
  tasks(): Array<{ nodeId: string; task: Task }> {
    return this.sent.flatMap((s) => (s.frame.type === 'task' ? [{ nodeId: s.nodeId, task: s.frame.payload }] : []));
  }
}

interface ControlPlaneLike {
  db: Db;
  sockets: FakeSockets;
  dispatcher: Dispatcher;
  /** statements this control plane's pool ran, by their first words */
  statements: string[];
}

/**
 * A dispatcher on its own pool and its own LISTEN connection; the poll is off unless asked for.
 * `listen: false` leaves out the LISTEN connection: only the test's own wake() starts a flush.
 * Tasks are claimed unless `direct: true` lets those queued in this process go straight to the
 * sockets held here (the product's default).
 */
function startControlPlaneLike(pollMs = 3_600_000, opts: { listen?: boolean; direct?: boolean } = {}): ControlPlaneLike {
  const own = connectDatabase(database.url);
  const statements: string[] = [];
  own.on('query', (q: { sql: string }) => statements.push(q.sql.replace(/\s+/g, ' ').trim()));
  const sockets = new FakeSockets();
  const dispatcher = createDispatcher({ db: own, logger, sessions: sockets, pollMs, direct: opts.direct ?? false });
  const wakeups: NodeWakeups | undefined =
    opts.listen === false ? undefined : listenForNodeWork({ url: database.url, logger, onWake: (ids, kind) => dispatcher.wake(ids, kind) });
  cleanups.push(async () => {
    await wakeups?.stop();
    await dispatcher.stop();
    await own.destroy();
  });
  return { db: own, sockets, dispatcher, statements };
}

const nodes = (n: number) => Promise.all(Array.from({ length: n }, () => createNodeFixture(db, REGION, { cpuMillicores: 64_000, memoryMb: 64_000, diskMb: 640_000 })));
let keySeq = 0;
const noop = (nodeId: string, deadlineMs = 120_000): NewTask => {
  const key = `dispatch-int-${keySeq++}`;
  return { nodeId, kind: 'noop', payload: { echo: key }, idempotencyKey: key, deadline: new Date(Date.now() + deadlineMs) };
};
const taskRow = (id: string) => db('tasks').where({ id }).first<{ state: string; attempts: number; result: unknown; last_error: unknown; dispatched_generation: string | null; finished_at: Date | null }>();
const claims = (statements: string[]) => statements.filter((s) => s.includes("update tasks t set state = 'dispatched'")).length;

/** Waits until the LISTEN connection is up (its first NOTIFY could otherwise be missed). */
async function listening(cp: ControlPlaneLike, nodeId: string): Promise<void> {
  await eventually(async () => {
    const { id } = await enqueueTask(db, noop(nodeId));
    await eventually(() => expect(cp.sockets.tasks().map((t) => t.task.id)).toContain(id), 300);
  }, 10_000, 0);
  cp.sockets.sent.length = 0;
}

/** The payloads another control plane's LISTEN connection receives from now on. */
async function listenOnChannel(): Promise<string[]> {
  const listener = new pg.Client({ connectionString: database.url });
  await listener.connect();
  cleanups.push(() => listener.end());
  const heard: string[] = [];
  listener.on('notification', (m) => heard.push(m.payload ?? ''));
  await listener.query(`listen ${NODE_CHANNEL}`);
  return heard;
}

describe('batched dispatch', () => {
  it('claims and sends the tasks of many nodes in one statement, each task once', async () => {
    const cp = startControlPlaneLike();
    const ids = await nodes(20);
    for (const id of ids) cp.sockets.held.set(id, 1);
    await listening(cp, ids[0]!);
    cp.statements.length = 0;
    const queued = await enqueueTasks(db, ids.flatMap((id) => [noop(id), noop(id), noop(id)]));
    expect(queued.every((q) => q.created)).toBe(true);
    await eventually(() => expect(cp.sockets.tasks()).toHaveLength(60), 5_000);
    await cp.dispatcher.idle();
    // One NOTIFY for the commit, one batch, one claim for all twenty nodes.
    expect(claims(cp.statements)).toBe(1);
    const sent = cp.sockets.tasks();
    expect(new Set(sent.map((s) => s.task.id)).size).toBe(60);
    expect(sent.map((s) => s.task.id).sort()).toEqual(queued.map((q) => q.id).sort());
    for (const s of sent) expect(s.task).toMatchObject({ attempt: 1, sessionGeneration: 1 });
    const rows = await db('tasks').whereIn('id', queued.map((q) => q.id)).select<Array<{ id: string; node_id: string; state: string }>>('id', 'node_id', 'state');
    expect(rows.every((r) => r.state === 'dispatched')).toBe(true);
    // Each frame went to the node whose task it is.
    const owner = new Map(rows.map((r) => [r.id, r.node_id]));
    for (const s of sent) expect(s.nodeId).toBe(owner.get(s.task.id));
  });

  it('commits a claim asynchronously without changing the durable default of its connection', async () => {
    const one = connectDatabase(database.url, { poolMax: 1 });
    cleanups.push(() => one.destroy());
    const [node] = await nodes(1);
    const { id } = await enqueueTask(one, noop(node!));
    expect((await claimForDispatch(one, [{ nodeId: node!, sessionGeneration: 1 }])).map((c) => c.task.id)).toEqual([id]);
    const after = await one.raw<{ rows: Array<{ synchronous_commit: string }> }>('show synchronous_commit');
    expect(after.rows[0]!.synchronous_commit).toBe('on');
  });

  it('queues a task once per idempotency key, within one call and across calls', async () => {
    const [node] = await nodes(1);
    const t = noop(node!);
    const [a, b] = await enqueueTasks(db, [t, t]);
    expect(a).toMatchObject({ created: true });
    expect(b).toEqual({ id: a!.id, created: false });
    expect(await enqueueTask(db, t)).toEqual({ id: a!.id, created: false });
    expect(await db('tasks').where({ idempotency_key: t.idempotencyKey })).toHaveLength(1);
  });

  it('sends a task once however often its node is woken while a batch is in flight', async () => {
    const cp = startControlPlaneLike();
    const [node] = await nodes(1);
    cp.sockets.held.set(node!, 1);
    const { id } = await enqueueTask(db, noop(node!));
    for (let i = 0; i < 10; i++) {
      cp.dispatcher.wake([node!], 'task');
      cp.dispatcher.sessionReady(node!);
      await new Promise((r) => setImmediate(r));
    }
    await cp.dispatcher.idle();
    await eventually(() => expect(cp.sockets.tasks().map((t) => t.task.id)).toContain(id));
    await cp.dispatcher.idle();
    expect(cp.sockets.tasks().filter((t) => t.task.id === id)).toHaveLength(1);
    expect(await taskRow(id)).toMatchObject({ state: 'dispatched', attempts: 1 });
  });

  it('redelivers a task claimed by a control plane that died before sending it', async () => {
    const [node] = await nodes(1);
    const { id } = await enqueueTask(db, noop(node!));
    // The dead control plane's claim, for the agent's session there (generation 4): committed, never sent.
    const dead = await claimForDispatch(db, [{ nodeId: node!, sessionGeneration: 4 }]);
    expect(dead.map((c) => c.task.id)).toEqual([id]);
    // The agent reconnects to a live control plane: a new session, generation 5.
    const cp = startControlPlaneLike();
    cp.sockets.held.set(node!, 5);
    cp.dispatcher.sessionReady(node!);
    await eventually(() => expect(cp.sockets.tasks().map((t) => t.task)).toEqual([expect.objectContaining({ id, attempt: 2, sessionGeneration: 5 })]));
    expect(await taskRow(id)).toMatchObject({ state: 'dispatched', attempts: 2, dispatched_generation: '5' });
    // The same session woken again gets nothing twice.
    cp.dispatcher.wake([node!]);
    await cp.dispatcher.idle();
    expect(cp.sockets.tasks()).toHaveLength(1);
  });

  it('does not send a claimed task to a session that ended meanwhile; the next session gets it', async () => {
    // No LISTEN: the enqueue's NOTIFY must not start a flush (which could claim and send to
    // session 1 before the test replaces it); the one flush is the wake below.
    const cp = startControlPlaneLike(3_600_000, { listen: false });
    const [node] = await nodes(1);
    cp.sockets.held.set(node!, 1);
    const { id } = await enqueueTask(db, noop(node!));
    cp.dispatcher.wake([node!], 'task');
    // The session is replaced while the claim is in the database.
    await new Promise((r) => setImmediate(r));
    cp.sockets.held.set(node!, 2);
    await cp.dispatcher.idle();
    expect(cp.sockets.tasks().filter((t) => t.task.sessionGeneration === 1)).toEqual([]);
    cp.dispatcher.sessionReady(node!);
    await eventually(() => expect(cp.sockets.tasks().map((t) => t.task)).toContainEqual(expect.objectContaining({ id, sessionGeneration: 2 })));
  });

  it('delivers through the control plane holding the socket when two run at once, each task once', async () => {
    const a = startControlPlaneLike();
    const b = startControlPlaneLike();
    const ids = await nodes(10);
    ids.forEach((id, i) => (i < 5 ? a : b).sockets.held.set(id, 1));
    await listening(a, ids[0]!);
    await listening(b, ids[5]!);
    const queued = await enqueueTasks(db, ids.flatMap((id) => [noop(id), noop(id)]));
    await eventually(() => expect(a.sockets.tasks().length + b.sockets.tasks().length).toBe(20), 5_000);
    // Both woken for every node (as a NOTIFY or the poll would): only holders claim, nothing repeats.
    a.dispatcher.wake(ids);
    b.dispatcher.wake(ids);
    await Promise.all([a.dispatcher.idle(), b.dispatcher.idle()]);
    for (const cp of [a, b]) for (const s of cp.sockets.tasks()) expect(cp.sockets.held.has(s.nodeId)).toBe(true);
    const all = [...a.sockets.tasks(), ...b.sockets.tasks()].map((s) => s.task.id).sort();
    expect(all).toEqual(queued.map((q) => q.id).sort());
  });

  it('finds a task whose NOTIFY was lost on the next poll', async () => {
    const cp = startControlPlaneLike(100);
    const [node] = await nodes(1);
    cp.sockets.held.set(node!, 1);
    // Written without a NOTIFY, as if the hint had been lost.
    await db('tasks').insert({ id: `task_lost${keySeq++}`, node_id: node, kind: 'noop', payload: JSON.stringify({ echo: 'lost' }), idempotency_key: `lost-${keySeq++}`, deadline: new Date(Date.now() + 60_000) });
    await eventually(() => expect(cp.sockets.tasks()).toHaveLength(1), 5_000);
  });
});

describe('tasks queued in this process, sent straight to the sockets held here', () => {
  it('writes the task claimed for the session and sends it when the insert returns, without a claim', async () => {
    const cp = startControlPlaneLike(3_600_000, { direct: true });
    const [node, other] = await nodes(2);
    cp.sockets.held.set(node!, 3);
    const heard = await listenOnChannel();
    cp.statements.length = 0;
    const [a, b] = await enqueueTasks(db, [noop(node!), noop(other!), noop(node!)]);
    // Only the node held elsewhere is NOTIFYed.
    await eventually(() => expect(heard.some((p) => p.includes(other!))).toBe(true), 5_000);
    expect(heard.filter((p) => p.includes(node!))).toEqual([]);
    // Sent before enqueueTasks returned, in the order queued; the node held elsewhere is queued.
    expect(cp.sockets.tasks().map((t) => t.task)).toEqual([
      expect.objectContaining({ id: a!.id, attempt: 1, sessionGeneration: 3 }),
      expect.objectContaining({ attempt: 1, sessionGeneration: 3 }),
    ]);
    expect(await taskRow(a!.id)).toMatchObject({ state: 'dispatched', attempts: 1, dispatched_generation: '3' });
    expect(await taskRow(b!.id)).toMatchObject({ state: 'queued', attempts: 0, dispatched_generation: null });
    await cp.dispatcher.idle();
    expect(claims(cp.statements)).toBe(0);
    // A repeat of a key sends nothing again.
    const again = await db('tasks').where({ id: a!.id }).first<{ idempotency_key: string; payload: { echo: string } }>();
    await enqueueTask(db, { nodeId: node!, kind: 'noop', payload: again.payload, idempotencyKey: again.idempotency_key, deadline: new Date(Date.now() + 60_000) });
    expect(cp.sockets.tasks()).toHaveLength(2);
  });

  it('queues behind what a claim would send the node first, and sends both in order', async () => {
    const cp = startControlPlaneLike(3_600_000, { direct: true });
    const [node] = await nodes(1);
    cp.sockets.held.set(node!, 1);
    // An older task, due, whose wake-up was lost.
    const older = `task_older${keySeq++}`;
    await db('tasks').insert({ id: older, node_id: node, kind: 'noop', payload: JSON.stringify({ echo: 'older' }), idempotency_key: `older-${keySeq++}`, deadline: new Date(Date.now() + 60_000), created_at: new Date(Date.now() - 1_000) });
    const { id } = await enqueueTask(db, noop(node!));
    expect(cp.sockets.tasks()).toEqual([]);
    expect(await taskRow(id)).toMatchObject({ state: 'queued' });
    cp.dispatcher.wake([node!], 'task');
    await cp.dispatcher.idle();
    expect(cp.sockets.tasks().map((t) => t.task.id)).toEqual([older, id]);
  });

  it('claims inside a transaction as before: nothing is sent before the commit', async () => {
    const cp = startControlPlaneLike(3_600_000, { direct: true });
    const [node] = await nodes(1);
    cp.sockets.held.set(node!, 1);
    let id = '';
    await db.transaction(async (trx) => {
      id = (await enqueueTask(trx, noop(node!))).id;
      await new Promise((r) => setTimeout(r, 50));
      expect(cp.sockets.tasks()).toEqual([]);
    });
    // Woken in-process at the commit.
    await eventually(() => expect(cp.sockets.tasks().map((t) => t.task.id)).toEqual([id]), 5_000);
  });

  it('redelivers a task sent at its insert to the node’s next session', async () => {
    const cp = startControlPlaneLike(3_600_000, { direct: true });
    const [node] = await nodes(1);
    cp.sockets.held.set(node!, 1);
    const { id } = await enqueueTask(db, noop(node!));
    expect(cp.sockets.tasks().map((t) => t.task.id)).toEqual([id]);
    // The agent reconnects before acking: a new session.
    cp.sockets.held.set(node!, 2);
    cp.dispatcher.sessionReady(node!);
    await cp.dispatcher.idle();
    expect(cp.sockets.tasks().map((t) => t.task)).toEqual([expect.objectContaining({ id, sessionGeneration: 1 }), expect.objectContaining({ id, attempt: 2, sessionGeneration: 2 })]);
  });
});

describe('desired states in batches', () => {
  it('sends each woken node its full state at the new generation in one statement, and closes revoked nodes', async () => {
    const cp = startControlPlaneLike();
    const ids = await nodes(4);
    for (const id of ids) cp.sockets.held.set(id, 1);
    await listening(cp, ids[0]!);
    const app = await createAppFixture(db, REGION);
    cp.statements.length = 0;
    const committed = await commitPlacements(db, [{ appId: app.appId, releaseId: app.releaseId, resources: { cpuMillicores: 100, memoryMb: 64, diskMb: 10 }, nodeIds: ids.slice(0, 3), spec: app.spec }]);
    await eventually(() => expect(cp.sockets.sent.filter((s) => s.frame.type === 'desired-state')).toHaveLength(3), 5_000);
    expect(cp.statements.filter((s) => s.includes('json_agg'))).toHaveLength(1);
    for (const { nodeId, frame } of cp.sockets.sent) {
      if (frame.type !== 'desired-state') continue;
      expect(frame.payload).toMatchObject({ generation: 1, sessionGeneration: 1 });
      expect(frame.payload.allocations.map((x) => x.id)).toEqual([committed.find((c) => c.nodeId === nodeId)!.id]);
    }
    // Nothing newer: woken again, nothing is sent again.
    cp.dispatcher.wake(ids.slice(0, 3), 'state');
    await cp.dispatcher.idle();
    expect(cp.sockets.sent).toHaveLength(3);
    await db('nodes').where({ id: ids[3] }).update({ revoked_at: db.fn.now() });
    cp.dispatcher.wake([ids[3]!], 'state');
    await cp.dispatcher.idle();
    expect(cp.sockets.revoked).toEqual([ids[3]]);
  });
});

describe('desired states read in the placing transaction, sent at its commit', () => {
  const resources = { cpuMillicores: 100, memoryMb: 64, diskMb: 10 };
  const states = (cp: ControlPlaneLike) => cp.sockets.sent.flatMap((s) => (s.frame.type === 'desired-state' ? [{ nodeId: s.nodeId, state: s.frame.payload }] : []));

  it('sends the held nodes their new state when the commit returns, with no statement after it and no NOTIFY; other nodes are left to their holder', async () => {
    const cp = startControlPlaneLike(3_600_000, { direct: true, listen: false });
    const [held, elsewhere] = await nodes(2);
    cp.sockets.held.set(held!, 4);
    const app = await createAppFixture(db, REGION);
    // What other control planes hear: only the node this process does not hold.
    const heard = await listenOnChannel();
    cp.statements.length = 0;
    const committed = await commitPlacements(db, [{ appId: app.appId, releaseId: app.releaseId, resources, nodeIds: [held!, elsewhere!], spec: app.spec }]);
    await eventually(() => expect(heard.some((p) => p.includes(elsewhere!))).toBe(true), 5_000);
    expect(heard.filter((p) => p.includes(held!))).toEqual([]);
    // Already handed to the socket: no wake-up, no flush.
    const sent = states(cp);
    expect(sent.map((s) => s.nodeId)).toEqual([held]);
    expect(sent[0]!.state).toMatchObject({ generation: 1, sessionGeneration: 4 });
    expect(sent[0]!.state.allocations.map((a) => [a.id, a.env])).toEqual([[committed.find((c) => c.nodeId === held)!.id, { GREETING: 'hi' }]]);
    await cp.dispatcher.idle();
    expect(cp.statements).toEqual([]);
    // The same state again (a wake-up, the poll) is not sent twice; a newer one is.
    cp.dispatcher.wake([held!], 'state');
    await cp.dispatcher.idle();
    expect(states(cp)).toHaveLength(1);
    await commitPlacements(db, [{ appId: app.appId, releaseId: app.releaseId, resources, nodeIds: [held!], spec: app.spec }]);
    expect(states(cp).map((s) => [s.state.generation, s.state.allocations.length])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('inside a caller’s transaction sends nothing before the commit, then wakes the flush', async () => {
    const cp = startControlPlaneLike(3_600_000, { direct: true });
    const [held] = await nodes(1);
    cp.sockets.held.set(held!, 1);
    const app = await createAppFixture(db, REGION);
    await db.transaction(async (trx) => {
      await commitPlacements(trx, [{ appId: app.appId, releaseId: app.releaseId, resources, nodeIds: [held!], spec: app.spec }]);
      await new Promise((r) => setTimeout(r, 50));
      expect(states(cp)).toEqual([]);
    });
    await eventually(() => expect(states(cp).map((s) => s.state.generation)).toEqual([1]), 5_000);
  });

  it('does not send to a session that ended before the commit returned; the flush serves the next one', async () => {
    const cp = startControlPlaneLike(3_600_000, { direct: true });
    const [held] = await nodes(1);
    cp.sockets.held.set(held!, 1);
    const app = await createAppFixture(db, REGION);
    // The socket is replaced once the state was read for session 1, before the commit.
    const replace = (q: { sql: string }) => {
      if (q.sql.includes('json_agg')) cp.sockets.held.set(held!, 2);
    };
    db.on('query', replace);
    try {
      await commitPlacements(db, [{ appId: app.appId, releaseId: app.releaseId, resources, nodeIds: [held!], spec: app.spec }]);
    } finally {
      db.off('query', replace);
    }
    expect(states(cp)).toEqual([]);
    // Woken in-process at once: the flush reads the state again for session 2.
    await eventually(() => expect(states(cp).map((s) => [s.state.generation, s.state.sessionGeneration])).toEqual([[1, 2]]), 5_000);
  });

  it('commits the placement when the state cannot be built here, and leaves the node to the flush', async () => {
    const cp = startControlPlaneLike(3_600_000, { direct: true, listen: false });
    const [held] = await nodes(1);
    cp.sockets.held.set(held!, 1);
    const app = await createAppFixture(db, REGION);
    // A sealed value and no way to open it in this dispatcher: the state cannot be built.
    const spec = { ...app.spec, sealedEnv: { TOKEN: 'v1:sealed' } };
    const [alloc] = await commitPlacements(db, [{ appId: app.appId, releaseId: app.releaseId, resources, nodeIds: [held!], spec }]);
    expect(await db('allocations').where({ id: alloc!.id }).first()).toBeDefined();
    expect((await db('nodes').where({ id: held }).first<{ desired_generation: string }>()).desired_generation).toBe('1');
    await cp.dispatcher.idle();
    expect(states(cp)).toEqual([]);
  });
});

describe('agent replies in batches', () => {
  async function dispatched(cp: ControlPlaneLike, node: string, count: number): Promise<string[]> {
    const queued = await enqueueTasks(db, Array.from({ length: count }, () => noop(node)));
    const ids = queued.map((q) => q.id);
    cp.dispatcher.wake([node], 'task');
    await eventually(() => expect(cp.sockets.tasks().filter((t) => ids.includes(t.task.id))).toHaveLength(count));
    return ids;
  }

  it('records acks and results once, whatever is repeated, in one statement per batch', async () => {
    const cp = startControlPlaneLike();
    const [node] = await nodes(1);
    cp.sockets.held.set(node!, 1);
    const ids = await dispatched(cp, node!, 3);
    cp.statements.length = 0;
    for (const taskId of ids) {
      cp.dispatcher.onAgentFrame(node!, { type: 'task-ack', payload: { taskId, duplicate: false } });
      cp.dispatcher.onAgentFrame(node!, { type: 'task-result', payload: { taskId, status: 'succeeded', result: { echo: `first ${taskId}` } } });
      // A duplicate delivery answered again, differently: the first answer stands.
      cp.dispatcher.onAgentFrame(node!, { type: 'task-ack', payload: { taskId, duplicate: true } });
      cp.dispatcher.onAgentFrame(node!, { type: 'task-result', payload: { taskId, status: 'failed', error: { code: 'TASK_FAILED', message: 'late' } } });
    }
    await cp.dispatcher.idle();
    for (const id of ids) expect(await taskRow(id)).toMatchObject({ state: 'succeeded', attempts: 1, result: { echo: `first ${id}` }, last_error: null });
    // The first frame goes alone, the eleven that came while it was written in one more batch.
    expect(cp.statements.filter((s) => s.startsWith('update tasks t set')).length).toBeLessThanOrEqual(2);
    // Late again, in a later batch: a finished task does not change.
    cp.dispatcher.onAgentFrame(node!, { type: 'task-result', payload: { taskId: ids[0]!, status: 'failed', error: { code: 'TASK_FAILED', message: 'later' } } });
    await cp.dispatcher.idle();
    expect(await taskRow(ids[0]!)).toMatchObject({ state: 'succeeded', last_error: null });
  });

  it('refuses replies about another node’s task', async () => {
    const cp = startControlPlaneLike();
    const [node, other] = await nodes(2);
    cp.sockets.held.set(node!, 1);
    cp.sockets.held.set(other!, 1);
    const [id] = await dispatched(cp, node!, 1);
    cp.dispatcher.onAgentFrame(other!, { type: 'task-result', payload: { taskId: id!, status: 'succeeded', result: { echo: 'forged' } } });
    await cp.dispatcher.idle();
    expect(await taskRow(id!)).toMatchObject({ state: 'dispatched', result: null });
  });

  it('queues a failed task again with backoff, and dead-letters it after the third attempt', async () => {
    const cp = startControlPlaneLike();
    const [node] = await nodes(1);
    cp.sockets.held.set(node!, 1);
    const [id] = await dispatched(cp, node!, 1);
    cp.dispatcher.onAgentFrame(node!, { type: 'task-progress', payload: { taskId: id!, seq: 0, lines: ['working'] } });
    await cp.dispatcher.idle();
    expect(await taskRow(id!)).toMatchObject({ state: 'running' });
    cp.dispatcher.onAgentFrame(node!, { type: 'task-result', payload: { taskId: id!, status: 'failed', error: { code: 'TASK_FAILED', message: 'once' } } });
    await cp.dispatcher.idle();
    const retry = await db('tasks').where({ id }).first<{ state: string; finished_at: Date | null; next_attempt_at: Date }>();
    expect(retry).toMatchObject({ state: 'queued', finished_at: null });
    expect(retry.next_attempt_at.getTime()).toBeGreaterThan(Date.now());
    await db('tasks').where({ id }).update({ state: 'dispatched', attempts: 3 });
    cp.dispatcher.onAgentFrame(node!, { type: 'task-result', payload: { taskId: id!, status: 'failed', error: { code: 'TASK_FAILED', message: 'third' } } });
    await cp.dispatcher.idle();
    const dead = await taskRow(id!);
    expect(dead).toMatchObject({ state: 'dead', last_error: { code: 'TASK_FAILED', message: 'third' } });
    expect(dead.finished_at).not.toBeNull();
  });

  it('records state acks with an asynchronous commit without changing the durable default of its connection', async () => {
    const one = connectDatabase(database.url, { poolMax: 1 });
    cleanups.push(() => one.destroy());
    const [node] = await nodes(1);
    await db('nodes').where({ id: node! }).update({ desired_generation: 3 });
    await applyStateAcks(one, new Map([[node!, 3]]));
    expect((await db('nodes').where({ id: node! }).first<{ applied_generation: string }>()).applied_generation).toBe('3');
    const after = await one.raw<{ rows: Array<{ synchronous_commit: string }> }>('show synchronous_commit');
    expect(after.rows[0]!.synchronous_commit).toBe('on');
  });

  it('records the highest applied generation per node, never past the desired one, never backwards', async () => {
    const cp = startControlPlaneLike();
    const [a, b] = await nodes(2);
    await db('nodes').whereIn('id', [a!, b!]).update({ desired_generation: 5 });
    cp.dispatcher.onAgentFrame(a!, { type: 'desired-state-ack', payload: { generation: 3 } });
    cp.dispatcher.onAgentFrame(a!, { type: 'desired-state-ack', payload: { generation: 4 } });
    cp.dispatcher.onAgentFrame(a!, { type: 'desired-state-ack', payload: { generation: 2 } });
    cp.dispatcher.onAgentFrame(b!, { type: 'desired-state-ack', payload: { generation: 9 } });
    await cp.dispatcher.idle();
    const applied = async (id: string) => (await db('nodes').where({ id }).first<{ applied_generation: string }>()).applied_generation;
    expect(await applied(a!)).toBe('4');
    expect(await applied(b!)).toBe('5');
  });
});
