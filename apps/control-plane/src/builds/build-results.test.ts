import type { FrameToControlPlane } from '@karvon/protocol';
import { describe, expect, it } from 'vitest';
import type { HubEvents } from '../hub/agent-hub';
import { endsBuild, withBuildResults } from './build-results';

const result = (payload: Extract<FrameToControlPlane, { type: 'task-result' }>['payload']): FrameToControlPlane => ({ type: 'task-result', payload });
const image = { image: 'karvon/app_1:rel', imageId: 'sha256:abc', commitSha: 'a'.repeat(40), buildpack: 'node', durationMs: 1 };

describe('endsBuild', () => {
  it("is a build's image or final failure, not another task's result nor a failure that is retried", () => {
    expect(endsBuild(result({ taskId: 'tsk_1', status: 'succeeded', result: image }))).toBe(true);
    expect(endsBuild(result({ taskId: 'tsk_1', status: 'failed', error: { code: 'BUILD_FAILED', message: 'x' } }))).toBe(true);
    expect(endsBuild(result({ taskId: 'tsk_1', status: 'failed', error: { code: 'CLONE_FAILED', message: 'x' } }))).toBe(true);
    expect(endsBuild(result({ taskId: 'tsk_1', status: 'succeeded', result: { ok: true } }))).toBe(false);
    expect(endsBuild(result({ taskId: 'tsk_1', status: 'succeeded', result: { ...image, commitSha: 'main' } }))).toBe(false);
    expect(endsBuild(result({ taskId: 'tsk_1', status: 'failed', error: { code: 'DEADLINE_EXCEEDED', message: 'x' } }))).toBe(false);
    expect(endsBuild({ type: 'task-ack', payload: { taskId: 'tsk_1' } } as FrameToControlPlane)).toBe(false);
  });
});

describe('withBuildResults', () => {
  it('passes every event on first, then tells of a build that may have ended', () => {
    const seen: string[] = [];
    const events: HubEvents = {
      sessionReady: (n) => seen.push(`ready ${n}`),
      sessionEnded: (n) => seen.push(`ended ${n}`),
      onAgentFrame: (n, f) => seen.push(`${f.type} ${n}`),
    };
    const wrapped = withBuildResults(events, () => seen.push('build ended'));
    wrapped.sessionReady('n1');
    wrapped.onAgentFrame('n1', { type: 'task-ack', payload: { taskId: 'tsk_1' } } as FrameToControlPlane);
    wrapped.onAgentFrame('n1', result({ taskId: 'tsk_1', status: 'succeeded', result: image }));
    wrapped.sessionEnded('n1');
    expect(seen).toEqual(['ready n1', 'task-ack n1', 'task-result n1', 'build ended', 'ended n1']);
  });
});
