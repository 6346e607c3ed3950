// The closed set of protocol errors. Each code has a fixed `recoverable` default: true means the
// session goes on (the offending frame is dropped, or the sender slows down); false means the side
// that reports it closes the socket with the close code from close-codes.ts. The hub's state
// machine may still choose per case (an error frame carries its own `recoverable`).

export const PROTOCOL_ERROR_CODES = [
  'MALFORMED_JSON',
  'FRAME_TOO_LARGE',
  'UNKNOWN_FRAME_TYPE',
  'INVALID_FRAME',
  'UNEXPECTED_FRAME',
  'PROTOCOL_VERSION_UNSUPPORTED',
  'UNAUTHENTICATED',
  'SUPERSEDED',
  'RATE_LIMITED',
  'NODE_REVOKED',
  'INTERNAL',
] as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

export const PROTOCOL_ERROR_RECOVERABLE: Readonly<Record<ProtocolErrorCode, boolean>> = Object.freeze({
  // Bytes that are not JSON (or not UTF-8) mean a broken or hostile peer, not version skew.
  MALFORMED_JSON: false,
  // Limits are part of the contract; a peer that exceeds one is not following it.
  FRAME_TOO_LARGE: false,
  // A newer minor may know frame types an older peer does not: drop the frame, keep the session.
  UNKNOWN_FRAME_TYPE: true,
  // Schema failures are most often field-level skew; dropping one frame beats a reconnect loop
  // that would resend the same frame.
  INVALID_FRAME: true,
  // A frame before hello, or one sent the wrong way: the peer's state machine is broken.
  UNEXPECTED_FRAME: false,
  PROTOCOL_VERSION_UNSUPPORTED: false,
  UNAUTHENTICATED: false,
  SUPERSEDED: false,
  RATE_LIMITED: true,
  NODE_REVOKED: false,
  // The receiver failed handling a frame (e.g. the database is down); the peer may retry later.
  INTERNAL: true,
});

export interface ProtocolError {
  code: ProtocolErrorCode;
  message: string;
  recoverable: boolean;
}

const MAX_ERROR_MESSAGE = 1024;

/** Builds a protocol error with the code's default `recoverable`, the message cut to 1 KiB. */
export function protocolError(code: ProtocolErrorCode, message: string, recoverable?: boolean): ProtocolError {
  return {
    code,
    message: message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE - 1)}…` : message,
    recoverable: recoverable ?? PROTOCOL_ERROR_RECOVERABLE[code],
  };
}

export function isProtocolErrorCode(value: unknown): value is ProtocolErrorCode {
  return typeof value === 'string' && (PROTOCOL_ERROR_CODES as readonly string[]).includes(value);
}
