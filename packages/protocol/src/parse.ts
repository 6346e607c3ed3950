import type { FrameDirection } from './direction';
import { protocolError, type ProtocolError } from './errors';
import { describeIssues } from './frame-issues';
import {
  FRAME_ROUTES,
  frameSchemas,
  isFrameType,
  mayTravel,
  type Frame,
  type FrameToAgent,
  type FrameToControlPlane,
  type FrameType,
} from './frame';
import { guardJson, nestsDeeperThan } from './json-guard';
import { MAX_FRAME_BYTES, MAX_JSON_DEPTH } from './limits';
import { parseProtocolVersion, PROTOCOL_VERSION } from './version';

export interface ParseFrameOptions {
  /** Largest frame in UTF-8 bytes; default MAX_FRAME_BYTES for the direction (the larger without). */
  maxBytes?: number;
  /** Which way the frame travels; a frame type that may not travel that way is UNEXPECTED_FRAME. */
  direction?: FrameDirection;
}

export type ParseResult<F extends Frame = Frame> = { ok: true; frame: F } | { ok: false; error: ProtocolError };

type Failure = { ok: false; error: ProtocolError };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses one WebSocket message into a typed frame, or a coded error; never throws, whatever the
 * input. `raw` is typically what `ws` hands over (string, Buffer, ArrayBuffer or Buffer[] for a
 * fragmented message). In order:
 *   1. size, before anything is decoded or parsed                        FRAME_TOO_LARGE
 *   2. UTF-8                                                             MALFORMED_JSON
 *   3. nesting depth, scanned before parsing                             FRAME_TOO_LARGE
 *   4. JSON; then `__proto__`/`constructor`/`prototype` keys dropped     MALFORMED_JSON
 *   5. an object with a known string `type`                              INVALID_FRAME / UNKNOWN_FRAME_TYPE
 *   6. the direction                                                     UNEXPECTED_FRAME
 *   7. hello/welcome: the protocol version, before the rest of the payload (another major may have
 *      another shape, and deserves PROTOCOL_VERSION_UNSUPPORTED, not INVALID_FRAME)
 *   8. the frame's schema (unknown keys stripped)                        INVALID_FRAME
 */
export function parseFrame(raw: unknown, opts: ParseFrameOptions & { direction: 'to-agent' }): ParseResult<FrameToAgent>;
export function parseFrame(
  raw: unknown,
  opts: ParseFrameOptions & { direction: 'to-control-plane' },
): ParseResult<FrameToControlPlane>;
export function parseFrame(raw: unknown, opts?: ParseFrameOptions): ParseResult;
export function parseFrame(raw: unknown, opts: ParseFrameOptions = {}): ParseResult {
  try {
    return parseUnsafe(raw, opts);
  } catch {
    // Nothing above is expected to throw; this keeps the promise to callers if something does.
    return fail('INTERNAL', 'frame could not be parsed');
  }
}

function parseUnsafe(raw: unknown, opts: ParseFrameOptions): ParseResult {
  const direction = opts.direction;
  const maxBytes = limitFor(opts);

  const text = decode(raw, maxBytes);
  if (typeof text !== 'string') return text;

  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return tooDeep();

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('MALFORMED_JSON', 'frame is not valid JSON');
  }

  // The scan above already bounds depth; this walk is what drops the prototype keys, and it checks
  // depth again on the parsed value rather than trusting a text scan alone.
  if (!guardJson(value, MAX_JSON_DEPTH, true).ok) return tooDeep();

  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('INVALID_FRAME', 'a frame is a JSON object {"type", "payload"}');
  }
  const envelope = value as Record<string, unknown>;
  const type = envelope.type;
  if (typeof type !== 'string') return fail('INVALID_FRAME', 'type: a string frame type is required');
  if (!isFrameType(type)) return fail('UNKNOWN_FRAME_TYPE', `unknown frame type ${quote(type)}`);

  if (direction && !mayTravel(type, direction)) {
    return fail('UNEXPECTED_FRAME', `${type} frames travel ${FRAME_ROUTES[type].join(' and ')}, not ${direction}`);
  }

  const versionError = checkHandshakeVersion(type, envelope.payload);
  if (versionError) return versionError;

  const parsed = frameSchemas[type].safeParse(envelope);
  if (!parsed.success) return fail('INVALID_FRAME', `${type}: ${describeIssues(parsed.error.issues)}`);
  return { ok: true, frame: parsed.data };
}

function limitFor(opts: ParseFrameOptions): number {
  const max = opts.maxBytes;
  if (typeof max === 'number' && Number.isFinite(max) && max > 0) return max;
  return opts.direction ? MAX_FRAME_BYTES[opts.direction] : Math.max(...Object.values(MAX_FRAME_BYTES));
}

/** Bytes or text → text, refusing anything over maxBytes before it is decoded. */
function decode(raw: unknown, maxBytes: number): string | Failure {
  if (typeof raw === 'string') {
    // UTF-8 takes at least one byte per UTF-16 unit and at most three, so the exact count is
    // only needed near the limit.
    if (raw.length > maxBytes) return tooLarge(maxBytes);
    if (raw.length * 3 > maxBytes && utf8Length(raw) > maxBytes) return tooLarge(maxBytes);
    return raw;
  }
  const bytes = toBytes(raw, maxBytes);
  if (!(bytes instanceof Uint8Array)) return bytes;
  try {
    return utf8.decode(bytes);
  } catch {
    return fail('MALFORMED_JSON', 'frame is not valid UTF-8');
  }
}

function toBytes(raw: unknown, maxBytes: number): Uint8Array | Failure {
  if (raw instanceof ArrayBuffer) {
    return raw.byteLength > maxBytes ? tooLarge(maxBytes) : new Uint8Array(raw);
  }
  if (ArrayBuffer.isView(raw)) {
    if (raw.byteLength > maxBytes) return tooLarge(maxBytes);
    return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  }
  if (Array.isArray(raw)) {
    // A fragmented message: the sum is checked before anything is copied.
    let total = 0;
    for (const part of raw as unknown[]) {
      if (!(part instanceof Uint8Array)) return fail('MALFORMED_JSON', 'frame fragments must be bytes');
      total += part.byteLength;
      if (total > maxBytes) return tooLarge(maxBytes);
    }
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const part of raw as Uint8Array[]) {
      joined.set(part, offset);
      offset += part.byteLength;
    }
    return joined;
  }
  return fail('MALFORMED_JSON', 'a frame is JSON text or its UTF-8 bytes');
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

const HANDSHAKE_VERSION_FIELD: Partial<Record<FrameType, string>> = {
  hello: 'protocolVersion',
  welcome: 'serverProtocolVersion',
};

function checkHandshakeVersion(type: FrameType, payload: unknown): Failure | undefined {
  const field = HANDSHAKE_VERSION_FIELD[type];
  if (!field || typeof payload !== 'object' || payload === null) return undefined;
  const version: unknown = (payload as Record<string, unknown>)[field];
  if (typeof version !== 'string') return undefined;
  const theirs = parseProtocolVersion(version);
  const ours = parseProtocolVersion(PROTOCOL_VERSION)!;
  if (theirs?.major === ours.major) return undefined;
  return fail(
    'PROTOCOL_VERSION_UNSUPPORTED',
    theirs
      ? `peer speaks protocol ${version}, this side speaks ${PROTOCOL_VERSION}: major versions differ`
      : `payload.${field}: ${quote(version)} is not a MAJOR.MINOR protocol version`,
  );
}

function tooDeep(): Failure {
  return fail('FRAME_TOO_LARGE', `frame nests deeper than ${MAX_JSON_DEPTH} levels`);
}

function tooLarge(maxBytes: number): Failure {
  return fail('FRAME_TOO_LARGE', `frame exceeds ${maxBytes} bytes`);
}

function fail(code: ProtocolError['code'], message: string): Failure {
  return { ok: false, error: protocolError(code, message) };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}
