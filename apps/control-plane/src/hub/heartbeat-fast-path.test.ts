import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALLOCATION_STATES, isoTimeSchema, parseFrame } from '@karvon/protocol';
import { HEARTBEAT_FAST_PATH_ENABLED, HEARTBEAT_FAST_PATH_MAX_CHARS, parseHeartbeatFast } from './heartbeat-fast-path';

// The fast path and parseFrame must agree: whenever the fast path returns a frame, parseFrame
// returns the same frame; whenever parseFrame refuses, the fast path returns nothing (and the hub
// falls back to parseFrame, which names the error). Valid canonical heartbeats must take it.

const parse = (text: string) => parseFrame(text, { direction: 'to-control-plane' });

/** `previous`: the allocation list of the connection's last report, as the hub passes it. */
function agrees(text: string, previous?: Parameters<typeof parseHeartbeatFast>[2]): void {
  const fast = parseHeartbeatFast(text, undefined, previous);
  const slow = parse(text);
  if (fast !== undefined) {
    expect(slow.ok, `fast path accepted what parseFrame refuses: ${text.slice(0, 300)}`).toBe(true);
    if (slow.ok) expect(fast).toStrictEqual(slow.frame);
  }
}

const mutation = fc.constantFrom<'replace' | 'delete' | 'add'>('replace', 'delete', 'add');
const isoTime = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/);
const safeCount = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const mb = fc.integer({ min: 0, max: 2 ** 30 });

const usage = fc.record({
  cpuPercent: fc.double({ min: 0, max: 100, noNaN: true }),
  load1: fc.double({ min: 0, max: 1e6, noNaN: true }),
  load5: fc.double({ min: 0, max: 1e6, noNaN: true }),
  load15: fc.double({ min: 0, max: 1e6, noNaN: true }),
  memoryUsedMb: mb,
  memoryTotalMb: mb,
  diskUsedMb: mb,
  diskTotalMb: mb,
  netRxBytes: safeCount,
  netTxBytes: safeCount,
  containerCount: fc.integer({ min: 0, max: 100_000 }),
});

const allocation = fc.record(
  {
    allocationId: id,
    state: fc.constantFrom(...ALLOCATION_STATES),
    containerId: fc.stringMatching(/^[a-f0-9]{12,64}$/),
    upstream: fc.oneof(
      fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${h}:${p}`),
      fc.constant('app-1.internal:8080'),
    ),
    restarts: fc.nat(),
    cpuPercent: fc.double({ min: 0, max: 409_600, noNaN: true }),
    memoryMb: fc.double({ min: 0, max: 2 ** 30, noNaN: true }),
    netRxBytes: safeCount,
    netTxBytes: safeCount,
    startedAt: isoTime,
    message: fc.string({ maxLength: 40 }),
  },
  { requiredKeys: ['allocationId', 'state', 'restarts'] },
);

const heartbeat = fc.record(
  {
    type: fc.constant('heartbeat'),
    id: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
    payload: fc.record({
      sentAt: isoTime,
      appliedGeneration: safeCount,
      usage,
      allocations: fc.array(allocation, { maxLength: 4 }),
    }),
  },
  { requiredKeys: ['type', 'payload'] },
);

/** The canonical key order (type first), as encodeFrame and the agent write it. */
const encode = (f: { type: string; id?: string; payload: unknown }) => JSON.stringify(f.id === undefined ? { type: f.type, payload: f.payload } : { type: f.type, payload: f.payload, id: f.id });

// Replaces one value somewhere in the frame (chosen by path) with something else: wrong types,
// out-of-range numbers, bad strings, nested objects, deep arrays.
const junk = fc.oneof(
  fc.constantFrom(null, true, false, -1, -0.5, 0, 1.5, 101, 409_601, 2 ** 30 + 1, 2 ** 53, 1e6 + 1, '', 'x', 'healthy', '2030-02-30T00:00:00Z', '10.0.0.1:0', 'a'.repeat(3000)),
  fc.constantFrom({}, [], [[[[]]]], { __proto__: 1 }, { a: { b: { c: {} } } }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.double(),
  fc.string({ maxLength: 20 }),
);

function paths(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (typeof v === 'object' && v !== null) for (const k of Object.keys(v)) out.push(...paths((v as Record<string, unknown>)[k], [...prefix, k]));
  return out;
}

function mutate(frame: unknown, pick: number, value: unknown, mode: 'replace' | 'delete' | 'add'): string {
  const copy = JSON.parse(JSON.stringify(frame)) as Record<string, unknown>;
  const all = paths(copy);
  const path = all[pick % all.length]!;
  if (path.length === 0) return JSON.stringify(value);
  let parent: Record<string | number, unknown> = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (mode === 'delete' && !Array.isArray(parent)) delete parent[last];
  else if (mode === 'add' && typeof parent[last] === 'object' && parent[last] !== null && !Array.isArray(parent[last])) (parent[last] as Record<string, unknown>).extra = value;
  else parent[last] = value;
  // keep the canonical prefix when the envelope survived, so the fast path really looks at it
  return typeof copy === 'object' && copy !== null && 'type' in copy ? encode(copy as { type: string; payload: unknown }) : JSON.stringify(copy);
}

describe('parseHeartbeatFast', () => {
  it('is enabled: it checks every field the schemas have', () => {
    expect(HEARTBEAT_FAST_PATH_ENABLED).toBe(true);
  });

  it('uses the same datetime pattern as the schema', () => {
    const schemaPattern = (isoTimeSchema as unknown as { _zod: { def: { pattern: RegExp } } })._zod.def.pattern;
    for (const t of ['2030-01-01T00:00:00Z', '2030-01-01T00:00:00.123+02:00', '2028-02-29T23:59:59.5Z', '2030-02-29T00:00:00Z', '2030-01-01T24:00:00Z', '2030-01-01 00:00:00Z']) {
      expect(isoTimeSchema.safeParse(t).success).toBe(schemaPattern.test(t));
      agrees(encode({ type: 'heartbeat', payload: { sentAt: t, appliedGeneration: 0, usage: { cpuPercent: 1, load1: 0, load5: 0, load15: 0, memoryUsedMb: 1, memoryTotalMb: 1, diskUsedMb: 1, diskTotalMb: 1, netRxBytes: 0, netTxBytes: 0, containerCount: 0 }, allocations: [] } }));
    }
  });

  it('accepts every valid canonical heartbeat, with exactly the frame parseFrame returns', () => {
    fc.assert(
      fc.property(heartbeat, (f) => {
        const text = encode(f);
        fc.pre(text.length <= HEARTBEAT_FAST_PATH_MAX_CHARS);
        const fast = parseHeartbeatFast(text);
        const slow = parse(text);
        expect(slow.ok).toBe(true);
        expect(fast).toBeDefined();
        if (slow.ok) expect(fast).toStrictEqual(slow.frame);
      }),
      { numRuns: 1_000 },
    );
  });

  it('never accepts what parseFrame refuses, and never differs from it: random mutations', () => {
    fc.assert(
      fc.property(heartbeat, fc.nat(), junk, mutation, (f, pick, value, mode) => {
        agrees(mutate(f, pick, value, mode));
      }),
      { numRuns: 2_000 },
    );
  });

  it('leaves to parseFrame what it would strip or refuse for depth: unknown keys, prototype keys, deep nesting, duplicate type', () => {
    const ok = { type: 'heartbeat', payload: { sentAt: '2030-01-01T00:00:00Z', appliedGeneration: 1, usage: { cpuPercent: 1, load1: 0, load5: 0, load15: 0, memoryUsedMb: 1, memoryTotalMb: 1, diskUsedMb: 1, diskTotalMb: 1, netRxBytes: 0, netTxBytes: 0, containerCount: 0 }, allocations: [{ allocationId: 'a1', state: 'healthy', restarts: 0 }] } };
    const text = JSON.stringify(ok);
    expect(parseHeartbeatFast(text)).toStrictEqual(ok);
    const deep = '['.repeat(40) + ']'.repeat(40);
    const variants = [
      text.replace('"allocations"', `"x":${deep},"allocations"`),
      text.replace('"allocations"', '"__proto__":{"polluted":1},"allocations"'),
      text.replace('"restarts":0', '"restarts":0,"extra":1'),
      text.replace(/}$/, ',"type":"hello"}'),
      text.replace('"a1"', '"-a1"'),
      text.replace('"healthy"', '"sleeping"'),
      text.replace('"cpuPercent":1', '"cpuPercent":1e999'),
      text.replace('"appliedGeneration":1', '"appliedGeneration":9007199254740993'),
      `${text.slice(0, -1)}`,
      text.replace('"allocations":[', `"allocations":[${'{"allocationId":"b","state":"running","restarts":0},'.repeat(200)}`),
    ];
    for (const v of variants) {
      expect(parseHeartbeatFast(v), v.slice(0, 200)).toBeUndefined();
      agrees(v);
    }
    // parseFrame refuses the deep one for depth; the fast path never got to decide.
    expect(parse(variants[0]!)).toMatchObject({ ok: false, error: { code: 'FRAME_TOO_LARGE' } });
  });

  it('with the previous report of the connection: agrees with parseFrame on random mutations, and keeps an identical list', () => {
    fc.assert(
      fc.property(heartbeat, fc.nat(), junk, mutation, (f, pick, value, mode) => {
        const first = parseHeartbeatFast(encode(f));
        fc.pre(first !== undefined);
        const previous = first.payload.allocations;
        // the same report again: the list already held is given back
        expect(parseHeartbeatFast(encode(f), undefined, previous)!.payload.allocations).toBe(previous);
        agrees(mutate(f, pick, value, mode), previous);
      }),
      { numRuns: 2_000 },
    );
  });

  it('with the previous report of another heartbeat: agrees with parseFrame on random mutations', () => {
    fc.assert(
      fc.property(heartbeat, heartbeat, fc.nat(), junk, mutation, (f, g, pick, value, mode) => {
        const first = parseHeartbeatFast(encode(g));
        fc.pre(first !== undefined);
        // g's allocations in place of f's first ones: equal strings at the same places, other fields mutated
        const mixed = { ...f, payload: { ...f.payload, allocations: [...first.payload.allocations.slice(0, 2), ...f.payload.allocations] } };
        agrees(mutate(mixed, pick, value, mode), first.payload.allocations);
      }),
      { numRuns: 2_000 },
    );
  });

  it('with the previous report: a list differing in a key or in the sign of a zero is checked, not reused', () => {
    const frame = (allocation: string) =>
      `{"type":"heartbeat","payload":{"sentAt":"2030-01-01T00:00:00Z","appliedGeneration":1,"usage":{"cpuPercent":1,"load1":0,"load5":0,"load15":0,"memoryUsedMb":1,"memoryTotalMb":1,"diskUsedMb":1,"diskTotalMb":1,"netRxBytes":0,"netTxBytes":0,"containerCount":0},"allocations":[${allocation}]}}`;
    const previous = parseHeartbeatFast(frame('{"allocationId":"a1","state":"healthy","restarts":0}'))!.payload.allocations;
    const variants = [
      frame('{"allocationId":"a1","state":"healthy","restarts":0,"extra":1}'),
      frame('{"allocationId":"a1","state":"healthy","restarts":0,"__proto__":{"polluted":1}}'),
      frame('{"allocationId":"a1","state":"healthy","restarts":0},{"allocationId":"a1","state":"healthy","restarts":0}'),
      frame('{"allocationId":"a1","state":"healthy","restarts":-0}'),
      frame('{"allocationId":"a1","state":"healthy"}'),
      frame('{"allocationId":"-a1","state":"healthy","restarts":0}'),
      frame('{"state":"healthy","restarts":0,"x":1}'),
      frame('{"allocationId":"a1","state":"healthy","restarts":0,"containerId":null}'),
      frame('{"allocationId":"a1","state":"healthy","restarts":0},{"state":"healthy","restarts":0,"x":1}'),
    ];
    for (const v of variants) {
      const fast = parseHeartbeatFast(v, undefined, previous);
      if (fast) expect(fast.payload.allocations).not.toBe(previous);
      const slow = parse(v);
      if (fast !== undefined) expect(slow.ok && fast).toStrictEqual(slow.ok && slow.frame);
    }
    expect(parseHeartbeatFast(variants[0]!, undefined, previous)).toBeUndefined();
    expect(parseHeartbeatFast(variants[6]!, undefined, previous)).toBeUndefined();
    expect(parseHeartbeatFast(variants[7]!, undefined, previous)).toBeUndefined();
    // past the end of the previous list nothing is known: a missing id is still missing
    expect(parseHeartbeatFast(variants[8]!, undefined, previous)).toBeUndefined();
    expect(Object.is(parseHeartbeatFast(variants[3]!, undefined, previous)!.payload.allocations[0]!.restarts, -0)).toBe(true);
  });

  it('takes only heartbeats within its size bound and the frame limit given', () => {
    const other = JSON.stringify({ type: 'token-refresh-request', payload: {} });
    expect(parseHeartbeatFast(other)).toBeUndefined();
    const hb = JSON.stringify({ type: 'heartbeat', payload: { sentAt: '2030-01-01T00:00:00Z', appliedGeneration: 0, usage: { cpuPercent: 1, load1: 0, load5: 0, load15: 0, memoryUsedMb: 1, memoryTotalMb: 1, diskUsedMb: 1, diskTotalMb: 1, netRxBytes: 0, netTxBytes: 0, containerCount: 0 }, allocations: [] } });
    expect(parseHeartbeatFast(hb)).toBeDefined();
    expect(parseHeartbeatFast(hb, 100)).toBeUndefined();
    expect(parse(hb.replace('"allocations":[]', `"allocations":[],"pad":"${'x'.repeat(HEARTBEAT_FAST_PATH_MAX_CHARS)}"`)).ok).toBe(true);
    expect(parseHeartbeatFast(hb.replace('"allocations":[]', `"allocations":[],"pad":"${'x'.repeat(HEARTBEAT_FAST_PATH_MAX_CHARS)}"`))).toBeUndefined();
  });
});
