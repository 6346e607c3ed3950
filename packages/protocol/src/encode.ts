import type { FrameDirection } from './direction';
import { isFrameType, frameSchemas, FRAME_ROUTES, mayTravel, type Frame } from './frame';
import { describeIssues } from './frame-issues';
import { guardJson } from './json-guard';
import { MAX_FRAME_BYTES, MAX_JSON_DEPTH } from './limits';
import type { ProtocolErrorCode } from './errors';

export interface EncodeFrameOptions {
  /** Refuse a frame type that may not travel this way. */
  direction?: FrameDirection;
  /** Default: the smallest MAX_FRAME_BYTES among the directions the frame may travel. */
  maxBytes?: number;
}

/** Thrown by encodeFrame: the caller built a frame the other side would refuse. A bug, not input. */
export class FrameEncodeError extends Error {
  override readonly name = 'FrameEncodeError';
  constructor(
    readonly code: Extract<ProtocolErrorCode, 'UNKNOWN_FRAME_TYPE' | 'UNEXPECTED_FRAME' | 'INVALID_FRAME' | 'FRAME_TOO_LARGE'>,
    message: string,
  ) {
    super(message);
  }
}

const encoder = new TextEncoder();

/**
 * Validates a frame against the same rules parseFrame applies and serializes it, so what one side
 * encodes the other side parses. Unknown keys are stripped from the output, as a receiver would.
 */
export function encodeFrame(frame: Frame, opts: EncodeFrameOptions = {}): string {
  const type: unknown = (frame as { type?: unknown } | null)?.type;
  if (!isFrameType(type)) throw new FrameEncodeError('UNKNOWN_FRAME_TYPE', `unknown frame type ${typeof type === 'string' ? JSON.stringify(type) : typeof type}`);
  if (opts.direction && !mayTravel(type, opts.direction)) {
    throw new FrameEncodeError('UNEXPECTED_FRAME', `${type} frames travel ${FRAME_ROUTES[type].join(' and ')}, not ${opts.direction}`);
  }
  if (!guardJson(frame, MAX_JSON_DEPTH, false).ok) {
    throw new FrameEncodeError('FRAME_TOO_LARGE', `${type} frame nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  const parsed = frameSchemas[type].safeParse(frame);
  if (!parsed.success) throw new FrameEncodeError('INVALID_FRAME', `${type}: ${describeIssues(parsed.error.issues)}`);
  const text = JSON.stringify(parsed.data);
  const maxBytes = opts.maxBytes ?? Math.min(...(opts.direction ? [opts.direction] : FRAME_ROUTES[type]).map((d) => MAX_FRAME_BYTES[d]));
  // Cheap bound first: UTF-8 is at most three bytes per UTF-16 unit.
  if (text.length * 3 > maxBytes && encoder.encode(text).byteLength > maxBytes) {
    throw new FrameEncodeError('FRAME_TOO_LARGE', `${type} frame exceeds ${maxBytes} bytes`);
  }
  return text;
}
