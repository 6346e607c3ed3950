import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Frame, Task } from '@karvon/protocol';
import { createTaskJournal } from './task-journal';
import { createTaskRunner, TaskFailure, type TaskHandler } from './task-runner';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(handler: TaskHandler) {
  const dir = await mkdtemp(path.join(tmpdir(), 'karvon-journal-'));
  dirs.push(dir);
  const sent: Frame[] = [];
  const journal = createTaskJournal(dir);
  const runner = createTaskRunner({ journal, handlers: { noop: handler }, logger: pino({ level: 'silent' }), send: (f) => sent.push(f) });
  return { sent, journal, runner };
}

const task = (id: string, key = 'k1', kind: Task['kind'] = 'noop'): Task =>
  ({ id, idempotencyKey: key, kind, payload: {}, deadline: new Date(Date.now() + 60_000).toISOString(), attempt: 1, sessionGeneration: 1 }) as Task;

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('task runner', () => {
  it('journals, acks, runs and reports; a repeat is answered from the journal', async () => {
    let runs = 0;
    const { sent, journal, runner } = await setup(() => {
      runs += 1;
      return Promise.resolve({ ok: true });
    });
    runner.handle(task('t1'));
    await until(() => sent.length === 2);
    expect(sent.map((f) => f.type)).toEqual(['task-ack', 'task-result']);
    expect(await journal.get('k1')).toMatchObject({ status: 'finished', executions: 1 });
    runner.handle(task('t1-again'));
    await until(() => sent.length === 4);
    expect(sent[2]).toEqual({ type: 'task-ack', payload: { taskId: 't1-again', duplicate: true } });
    expect(sent[3]).toEqual({ type: 'task-result', payload: { taskId: 't1-again', status: 'succeeded', result: { ok: true } } });
    expect(runs).toBe(1);
  });

  it('acks a repeat of a task still running as a duplicate without starting it again', async () => {
    let release!: () => void;
    let runs = 0;
    const { sent, runner } = await setup(() => {
      runs += 1;
      return new Promise((r) => (release = () => r(null)));
    });
    runner.handle(task('a'));
    await until(() => sent.length === 1);
    runner.handle(task('b'));
    await until(() => sent.length === 2);
    expect(sent[1]).toEqual({ type: 'task-ack', payload: { taskId: 'b', duplicate: true } });
    release();
    await until(() => sent.length === 3);
    expect(runs).toBe(1);
  });

  it('reports coded failures and refuses kinds it has no handler for', async () => {
    const { sent, runner } = await setup(() => Promise.reject(new TaskFailure('BROKEN', 'it broke')));
    runner.handle(task('f', 'kf'));
    runner.handle(task('g', 'kg', 'gc'));
    await until(() => sent.length === 4);
    const results = sent.filter((f) => f.type === 'task-result').map((f) => f.payload);
    expect(results).toContainEqual({ taskId: 'f', status: 'failed', error: { code: 'BROKEN', message: 'it broke' } });
    expect(results).toContainEqual({ taskId: 'g', status: 'failed', error: { code: 'UNSUPPORTED_TASK', message: 'this agent does not run gc tasks' } });
  });

  it('cancels one running task by id; it finishes with its own result and others go on', async () => {
    const reasons: unknown[] = [];
    const { sent, runner } = await setup(
      (t, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            reasons.push(ctx.signal.reason);
            resolve({ stopped: t.id });
          });
        }),
    );
    runner.handle(task('c1', 'kc1'));
    runner.handle(task('c2', 'kc2'));
    await until(() => sent.length === 2);
    expect(runner.cancel('c1')).toBe(true);
    expect(runner.cancel('unknown')).toBe(false);
    await until(() => sent.length === 3);
    expect(sent[2]).toEqual({ type: 'task-result', payload: { taskId: 'c1', status: 'succeeded', result: { stopped: 'c1' } } });
    expect(reasons).toEqual(['cancelled']);
    runner.stop();
    await until(() => sent.length === 4);
    expect(reasons).toEqual(['cancelled', 'agent-stopping']);
  });
});
