import { describe, expect, it } from 'vitest';
import { foldTaskReplies, type TaskReply } from './task-replies';

const ack = (taskId: string, nodeId = 'n1'): TaskReply => ({ nodeId, type: 'task-ack', taskId });
const progress = (taskId: string): TaskReply => ({ nodeId: 'n1', type: 'task-progress', taskId });
const ok = (taskId: string, echo: string): TaskReply => ({ nodeId: 'n1', type: 'task-result', result: { taskId, status: 'succeeded', result: { echo } } });
const failed = (taskId: string): TaskReply => ({ nodeId: 'n1', type: 'task-result', result: { taskId, status: 'failed', error: { code: 'TASK_FAILED', message: 'no' } } });

describe('foldTaskReplies', () => {
  it('folds an ack, progress and result for one task into one transition', () => {
    expect(foldTaskReplies([ack('t1'), progress('t1'), ok('t1', 'x')])).toEqual([
      { id: 't1', node_id: 'n1', acked: true, running: true, status: 'succeeded', result: { echo: 'x' }, error: null },
    ]);
  });

  it('keeps the first result when a duplicate delivery answers twice', () => {
    const [t] = foldTaskReplies([ok('t1', 'first'), ack('t1'), ok('t1', 'second'), failed('t1')]);
    expect(t).toMatchObject({ status: 'succeeded', result: { echo: 'first' }, acked: true });
  });

  it('keeps tasks apart, and the same task id from another node apart', () => {
    const out = foldTaskReplies([ack('t1'), failed('t2'), ack('t1', 'n2')]);
    expect(out).toHaveLength(3);
    expect(out.find((t) => t.id === 't2')).toMatchObject({ status: 'failed', error: { code: 'TASK_FAILED' }, acked: false });
    expect(out.filter((t) => t.id === 't1').map((t) => t.node_id)).toEqual(['n1', 'n2']);
  });

  it('folds nothing into nothing', () => {
    expect(foldTaskReplies([])).toEqual([]);
  });
});
