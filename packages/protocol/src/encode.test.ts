import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameEncodeError } from './encode';
import { errorFrame } from './error-frame';
import { FRAME_ROUTES, FRAME_TYPES, frame, type Frame } from './frame';
import { parseFrame } from './parse';
import { cloneFrame, sampleFrames, sampleTasks } from './testing/sample-frames';

const roundTrip = (f: Frame) => parseFrame(encodeFrame(f));

describe('round trip: encodeFrame → parseFrame', () => {
  it.each(FRAME_TYPES.map((t) => [t]))('%s', (type) => {
    const original = sampleFrames[type];
    const result = roundTrip(original);
    expect(result).toStrictEqual({ ok: true, frame: original });
    // …and in its own direction, through every byte form ws can hand over.
    for (const direction of FRAME_ROUTES[type]) {
      const text = encodeFrame(original, { direction });
      const bytes = new TextEncoder().encode(text);
      const half = Math.floor(bytes.length / 2);
      for (const raw of [text, Buffer.from(text), bytes.buffer, [Buffer.from(bytes.subarray(0, half)), Buffer.from(bytes.subarray(half))]]) {
        expect(parseFrame(raw, { direction })).toStrictEqual({ ok: true, frame: original });
      }
    }
  });

  it.each(Object.values(sampleTasks).map((t) => [t.kind, t]))('task of kind %s', (_kind, task) => {
    const f = frame('task', task);
    expect(parseFrame(encodeFrame(f), { direction: 'to-agent' })).toStrictEqual({ ok: true, frame: f });
  });

  it('a failed task result', () => {
    const f = frame('task-result', { taskId: 't1', status: 'failed', error: { code: 'BUILD_FAILED', message: 'npm ci exited 1' } });
    expect(roundTrip(f)).toStrictEqual({ ok: true, frame: f });
  });

  it('frames with only the required fields', () => {
    const minimal: Frame[] = [
      frame('error', { code: 'INTERNAL', message: '', recoverable: true }),
      frame('log-chunk', { taskId: 't1', stream: 'stdout', seq: 0, lines: [{ at: '2030-01-01T00:00:00Z', text: '' }] }),
      frame('task-progress', { taskId: 't1', seq: 9, lines: [] }),
      frame('task-result', { taskId: 't1', status: 'succeeded', result: null }),
      frame('hello', { ...sampleFrames.hello.payload, facts: { ...sampleFrames.hello.payload.facts, dockerVersion: null } }),
    ];
    for (const f of minimal) expect(roundTrip(f)).toStrictEqual({ ok: true, frame: f });
  });
});

describe('encodeFrame', () => {
  it('strips unknown keys, as a receiver would', () => {
    const f = cloneFrame(sampleFrames['task-ack']);
    Object.assign(f.payload, { extra: 'dropped' });
    Object.assign(f, { extra: 1 });
    expect(JSON.parse(encodeFrame(f))).toEqual({ type: 'task-ack', payload: { taskId: 'task_01', duplicate: false } });
  });

  it('throws INVALID_FRAME naming the field for a frame the receiver would refuse', () => {
    const f = cloneFrame(sampleFrames.heartbeat);
    f.payload.usage.cpuPercent = Number.NaN;
    expect(() => encodeFrame(f)).toThrow(FrameEncodeError);
    expect(() => encodeFrame(f)).toThrow(/heartbeat: payload\.usage\.cpuPercent/);
  });

  it('throws UNKNOWN_FRAME_TYPE, UNEXPECTED_FRAME and FRAME_TOO_LARGE', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof FrameEncodeError ? e.code : 'other';
      }
      return 'none';
    };
    expect(codeOf(() => encodeFrame({ type: 'nope', payload: {} } as unknown as Frame))).toBe('UNKNOWN_FRAME_TYPE');
    expect(codeOf(() => encodeFrame(null as unknown as Frame))).toBe('UNKNOWN_FRAME_TYPE');
    expect(codeOf(() => encodeFrame(sampleFrames.heartbeat, { direction: 'to-agent' }))).toBe('UNEXPECTED_FRAME');
    expect(codeOf(() => encodeFrame(sampleFrames.heartbeat, { maxBytes: 100 }))).toBe('FRAME_TOO_LARGE');
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(codeOf(() => encodeFrame(frame('task-result', { taskId: 't', status: 'succeeded', result: deep as null })))).toBe('FRAME_TOO_LARGE');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(codeOf(() => encodeFrame(frame('task-result', { taskId: 't', status: 'succeeded', result: cyclic as never })))).toBe('FRAME_TOO_LARGE');
  });
});

describe('helpers', () => {
  it('frame() builds the envelope, with an optional id', () => {
    expect(frame('task-ack', { taskId: 't', duplicate: true })).toEqual({ type: 'task-ack', payload: { taskId: 't', duplicate: true } });
    expect(frame('desired-state-ack', { generation: 2 }, 'f9')).toEqual({ type: 'desired-state-ack', id: 'f9', payload: { generation: 2 } });
  });

  it('errorFrame() answers a parse failure with its code and recoverable flag', () => {
    const parsed = parseFrame('{');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const f = errorFrame(parsed.error, undefined, { refType: 'frame', ref: 'f-3' });
    expect(f).toEqual({
      type: 'error',
      payload: { code: 'MALFORMED_JSON', message: parsed.error.message, recoverable: false, refType: 'frame', ref: 'f-3' },
    });
    expect(parseFrame(encodeFrame(f), { direction: 'to-agent' }).ok).toBe(true);
    expect(errorFrame('RATE_LIMITED', 'slow down').payload).toEqual({ code: 'RATE_LIMITED', message: 'slow down', recoverable: true });
  });
});
