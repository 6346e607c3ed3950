import { describe, expect, it } from 'vitest';
import { decideRollout, type RolloutAllocation, type RolloutInput } from './rollout-decision';

const alloc = (id: string, actualStatus: string, statusMessage: string | null = null): RolloutAllocation => ({ id, actualStatus, statusMessage });
const input = (over: Partial<RolloutInput>): RolloutInput => ({ replicas: 2, mine: [], others: ['old1', 'old2'], now: 1_000, deadline: 10_000, ...over });

describe('decideRollout', () => {
  it('places the missing replicas first', () => {
    expect(decideRollout(input({}))).toEqual({ kind: 'place', count: 2 });
    expect(decideRollout(input({ mine: [alloc('a', 'healthy')] }))).toEqual({ kind: 'place', count: 1 });
  });

  it('waits while any replica is not yet healthy, keeping the old ones', () => {
    expect(decideRollout(input({ mine: [alloc('a', 'healthy'), alloc('b', 'starting')] }))).toEqual({ kind: 'wait', healthy: 1 });
    expect(decideRollout(input({ mine: [alloc('a', 'pending'), alloc('b', 'unhealthy')] }))).toEqual({ kind: 'wait', healthy: 0 });
  });

  it('succeeds only when every replica is healthy, retiring the earlier deploys', () => {
    expect(decideRollout(input({ mine: [alloc('a', 'healthy'), alloc('b', 'healthy')] }))).toEqual({ kind: 'succeed', retire: ['old1', 'old2'] });
  });

  it('succeeds at once for zero replicas', () => {
    expect(decideRollout(input({ replicas: 0 }))).toEqual({ kind: 'succeed', retire: ['old1', 'old2'] });
  });

  it('fails on the first failed replica, retiring only its own replicas', () => {
    const step = decideRollout(input({ mine: [alloc('a', 'healthy'), alloc('b', 'failed', 'unhealthy: no answer on /healthz within 60 s\nlast lines')] }));
    expect(step).toEqual({ kind: 'fail', code: 'HEALTH_CHECK_FAILED', message: 'unhealthy: no answer on /healthz within 60 s\nlast lines', retire: ['a', 'b'] });
  });

  it.each([
    ['crash-loop', 'exit code 1, oom false', 'CRASH_LOOP'],
    ['failed', 'crash-loop: exit code 3', 'CRASH_LOOP'],
    ['failed', '(HTTP code 404) no such container - No such image: ghost:latest', 'IMAGE_NOT_FOUND'],
    ['failed', 'pull access denied for ghost', 'IMAGE_NOT_FOUND'],
    ['failed', 'port is already allocated', 'START_FAILED'],
  ])('classifies %s "%s" as %s', (status, message, code) => {
    const step = decideRollout(input({ mine: [alloc('a', status, message)] }));
    expect(step.kind === 'fail' && step.code).toBe(code);
  });

  it('fails when the deadline passes before every replica is healthy', () => {
    const step = decideRollout(input({ now: 10_001, mine: [alloc('a', 'healthy'), alloc('b', 'starting')] }));
    expect(step).toMatchObject({ kind: 'fail', code: 'DEPLOY_TIMEOUT', retire: ['a', 'b'] });
    expect(step.kind === 'fail' && step.message).toContain('1 of 2');
  });

  it('trims extra replicas after a scale-down, not-yet-healthy ones first', () => {
    expect(decideRollout(input({ replicas: 1, mine: [alloc('a', 'healthy'), alloc('b', 'starting'), alloc('c', 'healthy')] }))).toEqual({ kind: 'trim', retire: ['b', 'c'] });
  });
});
