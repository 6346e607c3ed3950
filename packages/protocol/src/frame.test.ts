import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import {
  FRAME_ROUTES,
  FRAME_TYPES,
  frameSchema,
  isFrameType,
  type Frame,
  type FramePayloadMap,
  type FrameToAgent,
  type FrameToControlPlane,
} from './frame';
import type { ProtocolError } from './errors';
import type { HeartbeatPayload } from './frames/heartbeat';
import type { Task } from './frames/task';
import { parseFrame } from './parse';
import { sampleFrames } from './testing/sample-frames';

describe('the frame union', () => {
  it('matches the zod schema, in both directions of assignment', () => {
    expectTypeOf<z.infer<typeof frameSchema>>().toEqualTypeOf<Frame>();
    expectTypeOf<FramePayloadMap['heartbeat']>().toEqualTypeOf<HeartbeatPayload>();
    expectTypeOf<Task<'build'>['payload']['source']['commitSha']>().toEqualTypeOf<string | undefined>();
  });

  it('splits by direction', () => {
    expectTypeOf<FrameToAgent['type']>().toEqualTypeOf<'welcome' | 'desired-state' | 'task' | 'log-credit' | 'task-cancel' | 'error' | 'token-refresh'>();
    expectTypeOf<FrameToControlPlane['type']>().toEqualTypeOf<
      | 'hello'
      | 'heartbeat'
      | 'desired-state-ack'
      | 'task-ack'
      | 'task-progress'
      | 'task-result'
      | 'log-chunk'
      | 'error'
      | 'token-refresh-request'
    >();
    const parsed = parseFrame('{}', { direction: 'to-agent' });
    expectTypeOf(parsed).toEqualTypeOf<{ ok: true; frame: FrameToAgent } | { ok: false; error: ProtocolError }>();
  });

  it('has a route for every type and a sample that the union schema accepts', () => {
    expect(FRAME_TYPES).toHaveLength(15);
    for (const type of FRAME_TYPES) {
      expect(FRAME_ROUTES[type].length).toBeGreaterThan(0);
      expect(frameSchema.safeParse(sampleFrames[type]).success).toBe(true);
    }
  });

  it('accepts crash-loop as an allocation state and log credit and cancel frames to the agent', () => {
    const beat = structuredClone(sampleFrames.heartbeat);
    beat.payload.allocations[0]!.state = 'crash-loop';
    expect(parseFrame(JSON.stringify(beat), { direction: 'to-control-plane' }).ok).toBe(true);
    for (const type of ['log-credit', 'task-cancel'] as const) {
      expect(parseFrame(JSON.stringify(sampleFrames[type]), { direction: 'to-agent' })).toEqual({ ok: true, frame: sampleFrames[type] });
    }
  });

  it('knows its own type names and nothing inherited', () => {
    expect(isFrameType('heartbeat')).toBe(true);
    for (const name of ['__proto__', 'constructor', 'hasOwnProperty', '', 'HEARTBEAT', 1]) expect(isFrameType(name)).toBe(false);
  });
});
