// The hub receives a heartbeat from every agent every interval: at 100,000 agents that is 3,334
// frames a second, and parseFrame (depth scan, JSON.parse, prototype-key walk, zod) costs several
// times the JSON.parse alone. This is a hand-written check of exactly what the zod schemas of
// @karvon/protocol (frames/heartbeat.ts) enforce, for the one frame type that is hot. The zod schema stays the
// contract: this returns a frame only when parseFrame would return the same frame, and `undefined`
// whenever it is unsure, so the caller falls back to parseFrame (which then also names the error).
// heartbeat-fast-path.test.ts checks that agreement on random valid and invalid frames.
import { z } from 'zod';
import {
  allocationStatusSchema,
  heartbeatPayloadSchema,
  hostPortSchema,
  MAX_ALLOCATIONS_PER_NODE,
  MAX_FRAME_BYTES,
  MAX_MESSAGE_CHARS,
  nodeUsageSchema,
  type AllocationStatus,
  type Frame,
} from '@karvon/protocol';

/**
 * Larger heartbeats take parseFrame. The bound also caps what JSON.parse may be made to build
 * before the structure is checked: a hostile frame nesting as deep as this allows costs V8 about
 * 0.3 µs per level, so ~1 ms at worst, instead of the depth scan every frame would otherwise pay.
 */
export const HEARTBEAT_FAST_PATH_MAX_CHARS = 8 * 1024;

const PREFIX = '{"type":"heartbeat","payload":{';

// The same patterns as the protocol's schemas (scalars.ts, frame.ts); zod's own datetime regex for sentAt.
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const FRAME_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const CONTAINER_ID = /^[a-f0-9]{12,64}$/;
const ISO_TIME = z.core.regexes.datetime({ offset: true, local: false, precision: null });
const STATES: ReadonlySet<unknown> = new Set(allocationStatusSchema.shape.state.options);
const MEGABYTES_MAX = 2 ** 30;

// Field lists this file checks, compared with the schemas once at load: if someone adds a field
// to a schema and not here, the fast path turns itself off rather than drop the field.
const USAGE_KEYS = ['cpuPercent', 'load1', 'load5', 'load15', 'memoryUsedMb', 'memoryTotalMb', 'diskUsedMb', 'diskTotalMb', 'netRxBytes', 'netTxBytes', 'containerCount'];
const ALLOCATION_KEYS = ['allocationId', 'state', 'containerId', 'upstream', 'restarts', 'cpuPercent', 'memoryMb', 'netRxBytes', 'netTxBytes', 'startedAt', 'message'];
const PAYLOAD_KEYS = ['sentAt', 'appliedGeneration', 'usage', 'allocations'];

const sameKeys = (schema: { shape: object }, keys: string[]) => {
  const actual = Object.keys(schema.shape);
  return actual.length === keys.length && keys.every((k) => actual.includes(k));
};

/** False when the schemas grew a field this file does not know: everything then takes parseFrame. */
export const HEARTBEAT_FAST_PATH_ENABLED =
  sameKeys(nodeUsageSchema, USAGE_KEYS) && sameKeys(allocationStatusSchema, ALLOCATION_KEYS) && sameKeys(heartbeatPayloadSchema, PAYLOAD_KEYS);

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const inRange = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && v >= min && v <= max;
const safeInt = (v: unknown, min: number, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const count = (o: Json): number => {
  let n = 0;
  for (const _ in o) n++;
  return n;
};

/**
 * A heartbeat frame as parseFrame(text, { direction: 'to-control-plane' }) would return it, or
 * undefined (not a heartbeat, larger than the fast path takes, invalid, or with keys the schema
 * would strip: let parseFrame decide). `text` must be the frame's text (already valid UTF-8, as
 * `ws` guarantees for text messages). `previousAllocations`: the allocations of the last frame
 * this returned for the same connection; strings equal to theirs are not matched again, and an
 * identical list is returned as that array (deep-equal to what parseFrame would give).
 */
export function parseHeartbeatFast(
  text: string,
  maxBytes: number = MAX_FRAME_BYTES['to-control-plane'],
  previousAllocations?: readonly AllocationStatus[],
): Frame<'heartbeat'> | undefined {
  if (!HEARTBEAT_FAST_PATH_ENABLED || text.length > HEARTBEAT_FAST_PATH_MAX_CHARS || !text.startsWith(PREFIX)) return undefined;
  // At most three UTF-8 bytes per UTF-16 unit: when that could exceed the limit, parseFrame counts.
  if (text.length * 3 > maxBytes) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Unknown keys would be stripped by zod but first walked by parseFrame's depth and prototype-key
  // checks; rather than repeat those, any object with a key not in the schema goes the slow way.
  const env = v as Json;
  // The prefix does not settle the type: a later duplicate "type" key wins in JSON.parse.
  if (env.type !== 'heartbeat') return undefined;
  const id = env.id;
  if (count(env) !== (id === undefined ? 2 : 3)) return undefined;
  if (id !== undefined && !(typeof id === 'string' && FRAME_ID.test(id))) return undefined;
  const payload = env.payload;
  if (!isObject(payload) || count(payload) !== 4) return undefined;
  const { sentAt, appliedGeneration, usage, allocations } = payload;
  if (typeof sentAt !== 'string' || !ISO_TIME.test(sentAt)) return undefined;
  if (!safeInt(appliedGeneration, 0, Number.MAX_SAFE_INTEGER)) return undefined;
  if (!isObject(usage) || count(usage) !== 11) return undefined;
  if (
    !inRange(usage.cpuPercent, 0, 100) ||
    !inRange(usage.load1, 0, 1e6) ||
    !inRange(usage.load5, 0, 1e6) ||
    !inRange(usage.load15, 0, 1e6) ||
    !safeInt(usage.memoryUsedMb, 0, MEGABYTES_MAX) ||
    !safeInt(usage.memoryTotalMb, 0, MEGABYTES_MAX) ||
    !safeInt(usage.diskUsedMb, 0, MEGABYTES_MAX) ||
    !safeInt(usage.diskTotalMb, 0, MEGABYTES_MAX) ||
    !safeInt(usage.netRxBytes, 0, Number.MAX_SAFE_INTEGER) ||
    !safeInt(usage.netTxBytes, 0, Number.MAX_SAFE_INTEGER) ||
    !safeInt(usage.containerCount, 0, 100_000)
  ) {
    return undefined;
  }
  if (!Array.isArray(allocations) || allocations.length > MAX_ALLOCATIONS_PER_NODE) return undefined;
  let same = previousAllocations !== undefined && previousAllocations.length === allocations.length;
  for (let i = 0; i < allocations.length; i++) {
    const checked = checkAllocation(allocations[i], previousAllocations?.[i]);
    if (checked === INVALID) return undefined;
    if (checked === CHANGED) same = false;
  }
  // The same report as last time (an idle node, or one whose replicas' figures did not move): the
  // array this node's state already holds is given back, and the one just parsed is garbage at once.
  if (same) payload.allocations = previousAllocations;
  // JSON.parse built fresh objects of exactly the schema's keys (counted above), so they are the
  // output as they are: no copy.
  return env as unknown as Frame<'heartbeat'>;
}

const INVALID = 0;
const CHANGED = 1;
const SAME = 2;

/**
 * INVALID, or valid and CHANGED from `known`, or valid and the SAME as `known` (every schema field
 * the same value by Object.is, so -0 stays -0; the key count then shows there is no other key).
 * `known`: the allocation at the same place in this connection's previous report, which passed
 * these checks: a string equal to its counterpart there is not matched against its pattern again
 * (ids, container ids, upstreams and start times repeat heartbeat after heartbeat).
 */
function checkAllocation(a: unknown, known: AllocationStatus | undefined): typeof INVALID | typeof CHANGED | typeof SAME {
  if (!isObject(a)) return INVALID;
  const { allocationId, state, containerId, upstream, restarts, cpuPercent, memoryMb, netRxBytes, netTxBytes, startedAt, message } = a;
  let keys = 3;
  if (typeof allocationId !== 'string' || (allocationId !== known?.allocationId && !ID.test(allocationId))) return INVALID;
  if (!STATES.has(state)) return INVALID;
  if (!safeInt(restarts, 0, Number.MAX_SAFE_INTEGER)) return INVALID;
  if (containerId !== undefined) {
    keys++;
    if (typeof containerId !== 'string' || (containerId !== known?.containerId && !CONTAINER_ID.test(containerId))) return INVALID;
  }
  if (upstream !== undefined) {
    keys++;
    if (typeof upstream !== 'string' || (upstream !== known?.upstream && !isHostPort(upstream))) return INVALID;
  }
  if (cpuPercent !== undefined) {
    keys++;
    if (!inRange(cpuPercent, 0, 409_600)) return INVALID;
  }
  if (memoryMb !== undefined) {
    keys++;
    if (!inRange(memoryMb, 0, MEGABYTES_MAX)) return INVALID;
  }
  if (netRxBytes !== undefined) {
    keys++;
    if (!safeInt(netRxBytes, 0, Number.MAX_SAFE_INTEGER)) return INVALID;
  }
  if (netTxBytes !== undefined) {
    keys++;
    if (!safeInt(netTxBytes, 0, Number.MAX_SAFE_INTEGER)) return INVALID;
  }
  if (startedAt !== undefined) {
    keys++;
    if (typeof startedAt !== 'string' || (startedAt !== known?.startedAt && !ISO_TIME.test(startedAt))) return INVALID;
  }
  if (message !== undefined) {
    keys++;
    if (typeof message !== 'string' || message.length > MAX_MESSAGE_CHARS) return INVALID;
  }
  if (count(a) !== keys) return INVALID;
  return known !== undefined &&
    Object.is(allocationId, known.allocationId) &&
    Object.is(state, known.state) &&
    Object.is(containerId, known.containerId) &&
    Object.is(upstream, known.upstream) &&
    Object.is(restarts, known.restarts) &&
    Object.is(cpuPercent, known.cpuPercent) &&
    Object.is(memoryMb, known.memoryMb) &&
    Object.is(netRxBytes, known.netRxBytes) &&
    Object.is(netTxBytes, known.netTxBytes) &&
    Object.is(startedAt, known.startedAt) &&
    Object.is(message, known.message)
    ? SAME
    : CHANGED;
}

// An agent repeats the same upstreams heartbeat after heartbeat; the schema's own check (a regex
// and a refine on the port) runs once per distinct value, bounded.
const validHostPorts = new Set<string>();
function isHostPort(v: string): boolean {
  if (validHostPorts.has(v)) return true;
  if (!hostPortSchema.safeParse(v).success) return false;
  if (validHostPorts.size >= 4096) validHostPorts.clear();
  validHostPorts.add(v);
  return true;
}
