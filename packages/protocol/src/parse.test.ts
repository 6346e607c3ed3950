import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { FrameDirection } from './direction';
import type { ProtocolErrorCode } from './errors';
import { FRAME_ROUTES, FRAME_TYPES, type Frame, type FrameType } from './frame';
import { MAX_FRAME_BYTES, MAX_LINES_PER_FRAME, MAX_LINE_CHARS } from './limits';
import { parseFrame } from './parse';
import { cloneFrame, sampleFrames, sampleTasks } from './testing/sample-frames';

/** A sample frame of `type`, changed by `edit`, as JSON text (not through encodeFrame: it is invalid). */
function edited<K extends FrameType>(type: K, edit: (f: Frame<K> & Record<string, unknown>) => void): string {
  const f = cloneFrame(sampleFrames[type]) as Frame<K> & Record<string, unknown>;
  edit(f);
  return JSON.stringify(f);
}

const any = (v: unknown) => v as never;

interface RejectCase {
  name: string;
  raw: unknown;
  code: ProtocolErrorCode;
  direction?: FrameDirection;
  /** A fragment the message must contain (the field path, usually). */
  message?: string | RegExp;
}

const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

const rejected: RejectCase[] = [
  // Not JSON, or not text.
  { name: 'empty string', raw: '', code: 'MALFORMED_JSON' },
  { name: 'truncated JSON', raw: '{"type":"heartbeat"', code: 'MALFORMED_JSON' },
  { name: 'NaN literal', raw: '{"type":"desired-state-ack","payload":{"generation":NaN}}', code: 'MALFORMED_JSON' },
  { name: 'single-quoted JSON', raw: "{'type':'hello'}", code: 'MALFORMED_JSON' },
  { name: 'invalid UTF-8 bytes', raw: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), code: 'MALFORMED_JSON' },
  { name: 'a number instead of text', raw: 42, code: 'MALFORMED_JSON' },
  { name: 'undefined', raw: undefined, code: 'MALFORMED_JSON' },
  { name: 'an object instead of text', raw: { type: 'hello' }, code: 'MALFORMED_JSON' },
  { name: 'fragments that are not bytes', raw: ['{"type":', '"hello"}'], code: 'MALFORMED_JSON' },
  // Valid JSON, not a frame.
  { name: 'null', raw: 'null', code: 'INVALID_FRAME' },
  { name: 'an array', raw: '[{"type":"heartbeat"}]', code: 'INVALID_FRAME' },
  { name: 'a string', raw: '"hello"', code: 'INVALID_FRAME' },
  { name: 'a number', raw: '1e999', code: 'INVALID_FRAME' },
  { name: 'no type', raw: '{"payload":{}}', code: 'INVALID_FRAME', message: 'type' },
  { name: 'type is a number', raw: '{"type":7,"payload":{}}', code: 'INVALID_FRAME', message: 'type' },
  { name: 'unknown type', raw: '{"type":"reboot","payload":{}}', code: 'UNKNOWN_FRAME_TYPE', message: '"reboot"' },
  { name: 'type __proto__', raw: '{"type":"__proto__","payload":{}}', code: 'UNKNOWN_FRAME_TYPE' },
  { name: 'type toString', raw: '{"type":"toString","payload":{}}', code: 'UNKNOWN_FRAME_TYPE' },
  { name: 'type in the wrong case', raw: '{"type":"Heartbeat","payload":{}}', code: 'UNKNOWN_FRAME_TYPE' },
  { name: 'missing payload', raw: '{"type":"heartbeat"}', code: 'INVALID_FRAME', message: 'heartbeat: payload' },
  { name: 'payload is an array', raw: '{"type":"task-ack","payload":[]}', code: 'INVALID_FRAME', message: 'payload' },
  { name: 'envelope id too long', raw: edited('task-ack', (f) => (f.id = 'x'.repeat(65))), code: 'INVALID_FRAME', message: 'id' },
  // Numbers.
  {
    name: 'huge exponent becomes Infinity',
    raw: edited('heartbeat', (f) => (f.payload.usage.load1 = any('§'))).replace('"§"', '1e999'),
    code: 'INVALID_FRAME',
    message: 'payload.usage.load1',
  },
  { name: 'cpuPercent over 100', raw: edited('heartbeat', (f) => (f.payload.usage.cpuPercent = 100.5)), code: 'INVALID_FRAME', message: 'payload.usage.cpuPercent' },
  { name: 'fractional restarts', raw: edited('heartbeat', (f) => (f.payload.allocations[0]!.restarts = 1.5)), code: 'INVALID_FRAME', message: 'payload.allocations[0].restarts' },
  { name: 'negative containerCount', raw: edited('heartbeat', (f) => (f.payload.usage.containerCount = -1)), code: 'INVALID_FRAME' },
  { name: 'number as a string', raw: edited('desired-state-ack', (f) => (f.payload.generation = any('13'))), code: 'INVALID_FRAME', message: 'payload.generation' },
  { name: 'generation beyond 2^53', raw: '{"type":"desired-state","payload":{"generation":9007199254740993,"sessionGeneration":1,"allocations":[],"routes":[],"certificates":[]}}', code: 'INVALID_FRAME', message: 'payload.generation' },
  { name: 'session generation 0', raw: edited('welcome', (f) => (f.payload.sessionGeneration = 0)), code: 'INVALID_FRAME', direction: 'to-agent' },
  { name: 'heartbeat interval 0', raw: edited('welcome', (f) => (f.payload.heartbeatIntervalMs = 0)), code: 'INVALID_FRAME', message: 'heartbeatIntervalMs' },
  { name: 'port 0', raw: edited('desired-state', (f) => (f.payload.allocations[0]!.port = 0)), code: 'INVALID_FRAME', message: 'payload.allocations[0].port' },
  // Enums and shapes.
  { name: 'unknown allocation state', raw: edited('heartbeat', (f) => (f.payload.allocations[0]!.state = any('zombie'))), code: 'INVALID_FRAME', message: 'payload.allocations[0].state' },
  { name: 'upstream without a port', raw: edited('heartbeat', (f) => (f.payload.allocations[0]!.upstream = '10.0.0.5')), code: 'INVALID_FRAME', message: 'upstream' },
  { name: 'upstream port 70000', raw: edited('heartbeat', (f) => (f.payload.allocations[0]!.upstream = '10.0.0.5:70000')), code: 'INVALID_FRAME', message: 'upstream' },
  { name: 'container id not hex', raw: edited('heartbeat', (f) => (f.payload.allocations[0]!.containerId = 'zz; rm -rf /')), code: 'INVALID_FRAME', message: 'containerId' },
  { name: 'sentAt not ISO', raw: edited('heartbeat', (f) => (f.payload.sentAt = 'yesterday')), code: 'INVALID_FRAME', message: 'payload.sentAt' },
  { name: 'health check type exec', raw: edited('desired-state', (f) => (f.payload.allocations[0]!.healthCheck = any({ type: 'exec', command: 'sh' }))), code: 'INVALID_FRAME', message: 'healthCheck' },
  { name: 'health check path without /', raw: edited('desired-state', (f) => (f.payload.allocations[0]!.healthCheck = { type: 'http', path: 'health z' })), code: 'INVALID_FRAME', message: 'healthCheck.path' },
  { name: 'command as a shell string', raw: edited('desired-state', (f) => (f.payload.allocations[0]!.command = any('node server.js'))), code: 'INVALID_FRAME', message: 'command' },
  { name: 'env value with NUL', raw: edited('desired-state', (f) => (f.payload.allocations[0]!.env.PORT = '3000\u0000')), code: 'INVALID_FRAME', message: 'env.PORT' },
  { name: 'env name with =', raw: edited('desired-state', (f) => (f.payload.allocations[0]!.env['A=B'] = 'x')), code: 'INVALID_FRAME', message: 'env' },
  { name: 'env value a number', raw: edited('desired-state', (f) => (f.payload.allocations[0]!.env.PORT = any(3000))), code: 'INVALID_FRAME', message: 'env.PORT' },
  { name: 'image starting with -', raw: edited('desired-state', (f) => (f.payload.allocations[0]!.image = '--privileged')), code: 'INVALID_FRAME', message: 'image' },
  { name: 'route hostname with upper case and rule syntax', raw: edited('desired-state', (f) => (f.payload.routes[0]!.hostname = 'Host(`evil.com`)')), code: 'INVALID_FRAME', message: 'routes[0].hostname' },
  { name: 'certificate without hostnames', raw: edited('desired-state', (f) => (f.payload.certificates[0]!.hostnames = [])), code: 'INVALID_FRAME', message: 'hostnames' },
  { name: 'task of an unknown kind', raw: edited('task', (f) => (f.payload.kind = any('exec'))), code: 'INVALID_FRAME', message: 'payload.kind' },
  { name: 'task payload of another kind', raw: JSON.stringify({ type: 'task', payload: { ...sampleTasks.build, payload: sampleTasks.gc.payload } }), code: 'INVALID_FRAME', message: 'payload.payload' },
  { name: 'task deadline not ISO', raw: edited('task', (f) => (f.payload.deadline = any(1_900_000_000))), code: 'INVALID_FRAME', message: 'payload.deadline' },
  { name: 'task attempt 0', raw: edited('task', (f) => (f.payload.attempt = 0)), code: 'INVALID_FRAME', message: 'payload.attempt' },
  { name: 'git URL with a local transport', raw: edited('task', (f) => ((f.payload.payload as { source: { url: string } }).source.url = 'ext::sh -c touch% /tmp/pwned')), code: 'INVALID_FRAME', message: 'source.url' },
  { name: 'error frame with an unknown code', raw: edited('error', (f) => (f.payload.code = any('OOPS'))), code: 'INVALID_FRAME', message: 'payload.code' },
  { name: 'error frame ref without refType', raw: edited('error', (f) => delete f.payload.refType), code: 'INVALID_FRAME', message: 'payload.ref' },
  { name: 'token that is not a JWT', raw: edited('token-refresh', (f) => (f.payload.token = 'not a jwt')), code: 'INVALID_FRAME', message: 'payload.token' },
  { name: 'log chunk for nothing', raw: edited('log-chunk', (f) => (delete f.payload.allocationId, delete f.payload.taskId)), code: 'INVALID_FRAME', message: 'allocationId or taskId' },
  { name: 'log chunk stream stdin', raw: edited('log-chunk', (f) => (f.payload.stream = any('stdin'))), code: 'INVALID_FRAME', message: 'payload.stream' },
  { name: 'log credit with a negative seq', raw: edited('log-credit', (f) => (f.payload.upToSeq = -1)), direction: 'to-agent', code: 'INVALID_FRAME', message: 'payload.upToSeq' },
  { name: 'log credit without a task', raw: edited('log-credit', (f) => delete (f.payload as { taskId?: string }).taskId), direction: 'to-agent', code: 'INVALID_FRAME', message: 'payload.taskId' },
  { name: 'task cancel with a bad id', raw: edited('task-cancel', (f) => (f.payload.taskId = 'not an id!')), direction: 'to-agent', code: 'INVALID_FRAME', message: 'payload.taskId' },
  { name: 'allocation state unknown', raw: edited('heartbeat', (f) => (f.payload.allocations[0]!.state = any('looping'))), code: 'INVALID_FRAME', message: 'state' },
  { name: 'task result that is not finished', raw: edited('task-result', (f) => (f.payload.status = any('running'))), code: 'INVALID_FRAME', message: 'payload.status' },
  // Bounds.
  { name: 'a progress line too long', raw: edited('task-progress', (f) => (f.payload.lines = ['x'.repeat(MAX_LINE_CHARS + 1)])), code: 'INVALID_FRAME', message: 'payload.lines[0]' },
  { name: 'too many progress lines', raw: edited('task-progress', (f) => (f.payload.lines = Array<string>(MAX_LINES_PER_FRAME + 1).fill('x'))), code: 'INVALID_FRAME', message: 'payload.lines' },
  { name: 'too many allocations', raw: edited('heartbeat', (f) => (f.payload.allocations = Array.from({ length: 1001 }, () => f.payload.allocations[1]!))), code: 'INVALID_FRAME', message: 'payload.allocations' },
  { name: 'too many env vars', raw: edited('desired-state', (f) => (f.payload.allocations[0]!.env = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`V${i}`, 'x'])))), code: 'INVALID_FRAME', message: 'env' },
  { name: 'task result over 64 KiB', raw: edited('task-result', (f) => (f.payload = { taskId: 't', status: 'succeeded', result: 'x'.repeat(70_000) })), code: 'INVALID_FRAME', message: 'payload.result' },
  { name: 'nesting deeper than 32', raw: `{"type":"task-result","payload":{"taskId":"t","status":"succeeded","result":${deepArray(40)}}}`, code: 'FRAME_TOO_LARGE', message: 'deeper' },
  { name: 'a million levels of nesting', raw: deepArray(1_000_000), code: 'FRAME_TOO_LARGE' },
  // Handshake versions.
  { name: 'hello from protocol 2.0', raw: edited('hello', (f) => (f.payload = any({ protocolVersion: '2.0', somethingNew: true }))), code: 'PROTOCOL_VERSION_UNSUPPORTED', message: '2.0' },
  { name: 'hello with a version that does not parse', raw: edited('hello', (f) => (f.payload.protocolVersion = 'banana')), code: 'PROTOCOL_VERSION_UNSUPPORTED', message: 'protocolVersion' },
  { name: 'welcome from protocol 0.9', raw: edited('welcome', (f) => (f.payload.serverProtocolVersion = '0.9')), code: 'PROTOCOL_VERSION_UNSUPPORTED', direction: 'to-agent' },
  // Direction.
  { name: 'desired-state sent by an agent', raw: JSON.stringify(sampleFrames['desired-state']), direction: 'to-control-plane', code: 'UNEXPECTED_FRAME', message: 'to-agent' },
  { name: 'log-credit sent by an agent', raw: JSON.stringify(sampleFrames['log-credit']), direction: 'to-control-plane', code: 'UNEXPECTED_FRAME' },
  { name: 'task-cancel sent by an agent', raw: JSON.stringify(sampleFrames['task-cancel']), direction: 'to-control-plane', code: 'UNEXPECTED_FRAME' },
  { name: 'task sent by an agent', raw: JSON.stringify(sampleFrames.task), direction: 'to-control-plane', code: 'UNEXPECTED_FRAME' },
  { name: 'token granted by an agent', raw: JSON.stringify(sampleFrames['token-refresh']), direction: 'to-control-plane', code: 'UNEXPECTED_FRAME' },
  { name: 'heartbeat sent to an agent', raw: JSON.stringify(sampleFrames.heartbeat), direction: 'to-agent', code: 'UNEXPECTED_FRAME' },
  { name: 'hello sent to an agent', raw: JSON.stringify(sampleFrames.hello), direction: 'to-agent', code: 'UNEXPECTED_FRAME' },
];

describe('parseFrame refuses', () => {
  it('at least 25 distinct malformed frames', () => {
    expect(rejected.length).toBeGreaterThanOrEqual(25);
  });

  it.each(rejected.map((c) => [c.name, c]))('%s', (_name, c) => {
    const result = parseFrame(c.raw, c.direction ? { direction: c.direction } : {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(c.code);
    expect(typeof result.error.recoverable).toBe('boolean');
    expect(result.error.message.length).toBeLessThanOrEqual(1024);
    if (c.message) expect(result.error.message).toMatch(c.message);
  });
});

describe('parseFrame size limit', () => {
  const ack = JSON.stringify(sampleFrames['task-ack']);

  it('is checked in UTF-8 bytes, inclusive', () => {
    const bytes = Buffer.byteLength(ack);
    expect(parseFrame(ack, { maxBytes: bytes }).ok).toBe(true);
    expect(parseFrame(ack, { maxBytes: bytes - 1 })).toMatchObject({ ok: false, error: { code: 'FRAME_TOO_LARGE' } });
    // Multi-byte characters count as their bytes, not as string length.
    const wide = JSON.stringify({ type: 'task-progress', payload: { taskId: 't', seq: 0, lines: ['ж'.repeat(100)] } });
    expect(parseFrame(wide, { maxBytes: wide.length + 50 })).toMatchObject({ ok: false, error: { code: 'FRAME_TOO_LARGE' } });
    expect(parseFrame(wide, { maxBytes: Buffer.byteLength(wide) }).ok).toBe(true);
  });

  it('is checked before JSON.parse, for text and for every byte form', () => {
    const spy = vi.spyOn(JSON, 'parse');
    try {
      const huge = ' '.repeat(MAX_FRAME_BYTES['to-control-plane'] + 1);
      const forms: unknown[] = [huge, Buffer.from(huge), new TextEncoder().encode(huge).buffer, [Buffer.from(huge.slice(1)), Buffer.from('  ')]];
      for (const raw of forms) {
        expect(parseFrame(raw, { direction: 'to-control-plane' })).toMatchObject({ ok: false, error: { code: 'FRAME_TOO_LARGE', recoverable: false } });
      }
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('defaults to the direction’s limit', () => {
    const big = JSON.stringify({ ...sampleFrames['desired-state'], pad: 'x'.repeat(MAX_FRAME_BYTES['to-control-plane']) });
    expect(parseFrame(big, { direction: 'to-agent' }).ok).toBe(true);
    expect(parseFrame(big, { direction: 'to-control-plane' })).toMatchObject({ ok: false, error: { code: 'FRAME_TOO_LARGE' } });
  });

  it('ignores a nonsensical maxBytes rather than throwing', () => {
    for (const maxBytes of [Number.NaN, -1, 0, Infinity]) expect(parseFrame(ack, { maxBytes }).ok).toBe(true);
  });
});

describe('parseFrame direction', () => {
  it('accepts every frame type in its own direction and refuses it in the other', () => {
    for (const type of FRAME_TYPES) {
      const text = JSON.stringify(sampleFrames[type]);
      for (const direction of ['to-agent', 'to-control-plane'] as const) {
        const allowed = (FRAME_ROUTES[type] as readonly FrameDirection[]).includes(direction);
        const result = parseFrame(text, { direction });
        expect(result.ok ? 'ok' : result.error.code, `${type} ${direction}`).toBe(allowed ? 'ok' : 'UNEXPECTED_FRAME');
      }
    }
  });

  it('lets error frames travel both ways', () => {
    expect(FRAME_ROUTES.error).toEqual(['to-agent', 'to-control-plane']);
  });
});

describe('parseFrame and prototypes', () => {
  const hostile = `{
    "type": "desired-state", "__proto__": {"polluted": "envelope"}, "constructor": {"prototype": {"polluted": "ctor"}},
    "payload": {
      "__proto__": {"polluted": "payload", "generation": 999},
      "generation": 1, "sessionGeneration": 1, "routes": [], "certificates": [],
      "allocations": [${JSON.stringify({ ...sampleFrames['desired-state'].payload.allocations[0] }).replace(
        '"env":{',
        '"env":{"__proto__":{"polluted":"env"},"constructor":"x","prototype":"y",',
      )}]
    }
  }`;
  const hostileResult = `{"type":"task-result","payload":{"taskId":"t","status":"succeeded",
    "result":{"__proto__":{"polluted":"result"},"nested":[{"constructor":{"prototype":{"polluted":"deep"}}, "ok": 1}]}}}`;

  it('never pollutes Object.prototype, and drops the keys from the frame', () => {
    const a = parseFrame(hostile, { direction: 'to-agent' });
    const b = parseFrame(hostileResult, { direction: 'to-control-plane' });
    expect(a.ok && b.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    if (!a.ok || !b.ok || a.frame.type !== 'desired-state' || b.frame.type !== 'task-result') return;

    const env = a.frame.payload.allocations[0]!.env;
    expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
    expect(Object.keys(env).sort()).toEqual(['DATABASE_URL', 'MULTILINE', 'PORT']);
    expect((env as Record<string, unknown>).polluted).toBeUndefined();
    expect(a.frame.payload.generation).toBe(1);
    expect(Object.hasOwn(a.frame, '__proto__')).toBe(false);
    expect(Object.hasOwn(a.frame.payload, '__proto__')).toBe(false);

    expect(b.frame.payload.status === 'succeeded' && b.frame.payload.result).toEqual({ nested: [{ ok: 1 }] });
    // Even a careless deep merge of the parsed result cannot reach a prototype now.
    const merged = Object.assign({}, b.frame.payload.status === 'succeeded' ? b.frame.payload.result : {});
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('treats the keys as unknown keys, not as errors', () => {
    const hello = JSON.stringify(sampleFrames.hello).replace('"facts":{', '"facts":{"__proto__":{"cpu":{"cores":1}},');
    const result = parseFrame(hello);
    expect(result).toStrictEqual({ ok: true, frame: sampleFrames.hello });
  });
});

describe('parseFrame is forward compatible within a major', () => {
  it('strips unknown keys a newer minor may add', () => {
    const newer = JSON.stringify({
      ...sampleFrames.heartbeat,
      trace: 'abc',
      payload: { ...sampleFrames.heartbeat.payload, gpuPercent: 3, usage: { ...sampleFrames.heartbeat.payload.usage, iowait: 1 } },
    });
    expect(parseFrame(newer, { direction: 'to-control-plane' })).toStrictEqual({ ok: true, frame: sampleFrames.heartbeat });
  });

  it('accepts a hello from a newer minor', () => {
    const hello = cloneFrame(sampleFrames.hello);
    hello.payload.protocolVersion = '1.9';
    expect(parseFrame(JSON.stringify(hello), { direction: 'to-control-plane' }).ok).toBe(true);
  });
});

describe('parseFrame never throws', () => {
  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const r = parseFrame(s);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('on arbitrary JSON values, as frames and as payloads of every type', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(...FRAME_TYPES), (value, type) => {
        expect(typeof parseFrame(JSON.stringify(value)).ok).toBe('boolean');
        expect(typeof parseFrame(JSON.stringify({ type, payload: value })).ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('on arbitrary bytes and non-text values', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        expect(typeof parseFrame(bytes).ok).toBe('boolean');
        expect(typeof parseFrame([Buffer.from(bytes), Buffer.from(bytes)]).ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
    for (const raw of [null, true, Symbol('x'), () => 1, new Map(), BigInt(1), new DataView(new ArrayBuffer(2))]) {
      expect(parseFrame(raw).ok).toBe(false);
    }
  });

  it('on valid frames with one field replaced by anything', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FRAME_TYPES), fc.anything(), fc.nat(), (type, junk, pick) => {
        const f = cloneFrame(sampleFrames[type]) as { payload: Record<string, unknown> };
        const keys = Object.keys(f.payload);
        if (keys.length > 0) f.payload[keys[pick % keys.length]!] = junk;
        let text: string | undefined;
        try {
          text = JSON.stringify(f);
        } catch {
          return; // junk that JSON cannot carry (BigInt) cannot arrive on the wire either
        }
        expect(typeof parseFrame(text).ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});
