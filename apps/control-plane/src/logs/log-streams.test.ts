// The control-plane side alone: a real database for the task queue, a fake session for the agent.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_STREAM_WINDOW_CHUNKS, type Frame, type FrameToControlPlane, type LogChunkPayload } from '@karvon/protocol';
import { createTestDatabase } from '../../../../test/database';
import { eventually } from '../../../../test/eventually';
import { createNodeFixture } from '../../../../test/fixtures';
import { connectDatabase, type Db } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { createLogStreams, type LogLine } from './log-streams';

let db: Db;
let drop: () => Promise<void>;
let nodeId: string;

beforeAll(async () => {
  const t = await createTestDatabase();
  drop = () => t.drop();
  db = connectDatabase(t.url);
  await migrateToLatest(db);
  nodeId = await createNodeFixture(db, 'logs-unit', { cpuMillicores: 1000, memoryMb: 1024, diskMb: 1024 });
});

afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

function setup() {
  const sent: Frame[] = [];
  const logs = createLogStreams({ db, logger: pino({ level: 'silent' }), sessions: { sessionGeneration: (n) => (n === nodeId ? 1 : undefined), send: (_n, f) => (sent.push(f), true) } });
  return { sent, logs };
}

const chunk = (taskId: string, seq: number, texts: string[], stream: 'stdout' | 'stderr' = 'stdout'): FrameToControlPlane => ({
  type: 'log-chunk',
  payload: { taskId, allocationId: 'alloc_1', stream, seq, lines: texts.map((text) => ({ at: '2030-01-01T00:00:00.000Z', text })) } satisfies LogChunkPayload,
});
const seen = new Set<string>();
/** the stream-logs task the last open() queued (each test's open makes a new one) */
const taskOf = async (follow = true) => {
  const row = await eventually(async () => {
    const r = await db('tasks').where({ kind: 'stream-logs' }).whereNotIn('id', [...seen]).first<{ id: string; payload: unknown } | undefined>();
    expect(r).toBeDefined();
    return r!;
  });
  seen.add(row.id);
  expect(row.payload).toMatchObject({ allocationId: 'alloc_1', follow });
  return row.id;
};
const stateOf = async (id: string) => (await db('tasks').where({ id }).first<{ state: string }>()).state;

describe('log streams', () => {
  it('yields lines in seq order whatever the arrival order, credits each chunk once read, and ends with the task', async () => {
    const { sent, logs } = setup();
    const it = logs.open({ nodeId, allocationId: 'alloc_1', tail: 10, follow: false }, new AbortController().signal)[Symbol.asyncIterator]();
    const first = it.next();
    const taskId = await taskOf(false);
    logs.onAgentFrame(nodeId, chunk(taskId, 1, ['c', 'd'], 'stderr'));
    logs.onAgentFrame(nodeId, chunk(taskId, 0, ['a', 'b']));
    logs.onAgentFrame('node_other', chunk(taskId, 2, ['not from this node']));
    logs.onAgentFrame(nodeId, chunk(taskId, 0, ['a duplicate']));
    logs.onAgentFrame(nodeId, { type: 'task-result', payload: { taskId, status: 'succeeded', result: {} } });
    const lines: LogLine[] = [(await first).value as LogLine];
    for (let r = await it.next(); !r.done; r = await it.next()) lines.push(r.value);
    expect(lines.map((l) => [l.stream, l.text])).toEqual([['stdout', 'a'], ['stdout', 'b'], ['stderr', 'c'], ['stderr', 'd']]);
    expect(lines[0]).toEqual({ allocationId: 'alloc_1', stream: 'stdout', at: '2030-01-01T00:00:00.000Z', text: 'a' });
    expect(sent).toEqual([
      { type: 'log-credit', payload: { taskId, upToSeq: 0 } },
      { type: 'log-credit', payload: { taskId, upToSeq: 1 } },
    ]);
    expect(logs.openCount()).toBe(0);
  });

  it('on abort, tells the agent at once and closes the task, even if the iterator is never touched again', async () => {
    const { sent, logs } = setup();
    const abort = new AbortController();
    const it = logs.open({ nodeId, allocationId: 'alloc_1', tail: 0, follow: true }, abort.signal)[Symbol.asyncIterator]();
    const first = it.next();
    const taskId = await taskOf();
    logs.onAgentFrame(nodeId, chunk(taskId, 0, ['x', 'y']));
    expect((await first).value).toMatchObject({ text: 'x' });
    abort.abort();
    expect(sent).toEqual([{ type: 'task-cancel', payload: { taskId } }]);
    await eventually(async () => expect(await stateOf(taskId)).toBe('cancelled'));
    expect(logs.openCount()).toBe(0);
  });

  it('cuts off an agent that sends far past its credit window, and ends streams of a node whose session ended', async () => {
    const { sent, logs } = setup();
    const it = logs.open({ nodeId, allocationId: 'alloc_1', tail: 0, follow: true }, new AbortController().signal)[Symbol.asyncIterator]();
    const first = it.next();
    const taskId = await taskOf();
    logs.onAgentFrame(nodeId, chunk(taskId, LOG_STREAM_WINDOW_CHUNKS * 2, ['too far']));
    await expect(first).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(sent).toContainEqual({ type: 'task-cancel', payload: { taskId } });
    await eventually(async () => expect(await stateOf(taskId)).toBe('cancelled'));

    const second = logs.open({ nodeId, allocationId: 'alloc_1', tail: 0, follow: true }, new AbortController().signal)[Symbol.asyncIterator]();
    const pending = second.next();
    const secondId = await taskOf();
    logs.sessionEnded(nodeId);
    expect((await pending).done).toBe(true);
    await eventually(async () => expect(await stateOf(secondId)).toBe('cancelled'));
  });

  it('refuses bad requests and nodes not connected here before queueing anything', async () => {
    const { logs } = setup();
    const before = await db('tasks').count<Array<{ count: string }>>('* as count');
    const signal = new AbortController().signal;
    expect(() => logs.open({ nodeId, allocationId: 'bad id!', tail: 1, follow: false }, signal)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }) as Error);
    expect(() => logs.open({ nodeId, allocationId: 'alloc_1', tail: 10_001, follow: false }, signal)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }) as Error);
    expect(() => logs.open({ nodeId: 'node_elsewhere', allocationId: 'alloc_1', tail: 1, follow: false }, signal)).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }) as Error);
    expect(await db('tasks').count<Array<{ count: string }>>('* as count')).toEqual(before);
  });
});
