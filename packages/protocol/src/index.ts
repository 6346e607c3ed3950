// @karvon/protocol: the contract between the control plane and its agents. See README.md.
export { PROTOCOL_VERSION, parseProtocolVersion, checkCompatibility } from './version';
export type { ProtocolVersion, CompatibilityResult } from './version';

export { PROTOCOL_ERROR_CODES, PROTOCOL_ERROR_RECOVERABLE, protocolError, isProtocolErrorCode } from './errors';
export type { ProtocolErrorCode, ProtocolError } from './errors';

export {
  CLOSE_CODES,
  CLOSE_CODE_FOR_ERROR,
  CLOSE_CODE_RECONNECT,
  closeCodeForError,
  closeCodeName,
  reconnectPolicyFor,
} from './close-codes';
export type { CloseCode, CloseCodeName, ReconnectPolicy } from './close-codes';

export { FRAME_DIRECTIONS } from './direction';
export type { FrameDirection } from './direction';
export {
  MAX_FRAME_BYTES,
  MAX_JSON_DEPTH,
  MAX_TASK_RESULT_CHARS,
  MAX_LINE_CHARS,
  MAX_LINES_PER_FRAME,
  LOG_STREAM_WINDOW_CHUNKS,
  MAX_MESSAGE_CHARS,
} from './limits';

export * from './scalars';
export { nodeFactsSchema } from './node-facts';
export type { NodeFacts } from './node-facts';

export * from './frames/hello';
export * from './frames/welcome';
export * from './frames/heartbeat';
export * from './frames/desired-state';
export * from './frames/desired-state-ack';
export * from './frames/task';
export * from './frames/task-ack';
export * from './frames/task-progress';
export * from './frames/task-result';
export * from './frames/log-chunk';
export * from './frames/log-credit';
export * from './frames/task-cancel';
export * from './frames/error';
export * from './frames/token-refresh';

export {
  FRAME_TYPES,
  FRAME_ROUTES,
  framePayloadSchemas,
  frameSchemas,
  frameSchema,
  frameIdSchema,
  isFrameType,
  mayTravel,
  frame,
} from './frame';
export type { Frame, FrameType, FramePayloadMap, FrameTypeTo, FrameToAgent, FrameToControlPlane } from './frame';

export { parseFrame } from './parse';
export type { ParseFrameOptions, ParseResult } from './parse';
export { encodeFrame, FrameEncodeError } from './encode';
export type { EncodeFrameOptions } from './encode';
export { errorFrame } from './error-frame';
export { PROTOTYPE_KEYS } from './json-guard';
