import type { ProtocolErrorCode } from './errors';

/**
 * WebSocket close codes for coded closes (the 4000–4999 range is reserved for applications by
 * RFC 6455). `reconnect` tells the agent what to do next, so a revoked node does not hammer the
 * hub and an agent with an expired token refreshes it instead of retrying blindly.
 */
export const CLOSE_CODES = Object.freeze({
  INTERNAL: 4000,
  UNAUTHENTICATED: 4001,
  PROTOCOL_VERSION_UNSUPPORTED: 4002,
  SUPERSEDED: 4003,
  NODE_REVOKED: 4004,
  POLICY_VIOLATION: 4008,
  MALFORMED: 4009,
} as const);

export type CloseCodeName = keyof typeof CLOSE_CODES;
export type CloseCode = (typeof CLOSE_CODES)[CloseCodeName];

/** What an agent does after the hub closes with a code. */
export type ReconnectPolicy = 'backoff' | 'refresh-token' | 'never';

export const CLOSE_CODE_RECONNECT: Readonly<Record<CloseCodeName, ReconnectPolicy>> = Object.freeze({
  INTERNAL: 'backoff',
  UNAUTHENTICATED: 'refresh-token',
  // The agent must be upgraded (or downgraded) first; retrying the same binary cannot succeed.
  PROTOCOL_VERSION_UNSUPPORTED: 'never',
  // Another session of this node took over (usually our own reconnect that won a race); back off
  // so two agents sharing one credential do not fight over the node.
  SUPERSEDED: 'backoff',
  NODE_REVOKED: 'never',
  POLICY_VIOLATION: 'backoff',
  MALFORMED: 'backoff',
});

/** The close code used when an error of this code ends the session. */
export const CLOSE_CODE_FOR_ERROR: Readonly<Record<ProtocolErrorCode, CloseCode>> = Object.freeze({
  MALFORMED_JSON: CLOSE_CODES.MALFORMED,
  FRAME_TOO_LARGE: CLOSE_CODES.MALFORMED,
  UNKNOWN_FRAME_TYPE: CLOSE_CODES.MALFORMED,
  INVALID_FRAME: CLOSE_CODES.MALFORMED,
  UNEXPECTED_FRAME: CLOSE_CODES.MALFORMED,
  PROTOCOL_VERSION_UNSUPPORTED: CLOSE_CODES.PROTOCOL_VERSION_UNSUPPORTED,
  UNAUTHENTICATED: CLOSE_CODES.UNAUTHENTICATED,
  SUPERSEDED: CLOSE_CODES.SUPERSEDED,
  RATE_LIMITED: CLOSE_CODES.POLICY_VIOLATION,
  NODE_REVOKED: CLOSE_CODES.NODE_REVOKED,
  INTERNAL: CLOSE_CODES.INTERNAL,
});

export function closeCodeForError(code: ProtocolErrorCode): CloseCode {
  return CLOSE_CODE_FOR_ERROR[code];
}

/** The name of a Karvon close code, or undefined for any other number (1000, 1006, 4999…). */
export function closeCodeName(code: number): CloseCodeName | undefined {
  for (const [name, value] of Object.entries(CLOSE_CODES)) if (value === code) return name as CloseCodeName;
  return undefined;
}

/**
 * What an agent should do after a close. Unknown and transport-level codes (1006 abnormal, 1011
 * server error, 1001 going away) all mean: reconnect with backoff, then reconcile.
 */
export function reconnectPolicyFor(code: number): ReconnectPolicy {
  const name = closeCodeName(code);
  return name ? CLOSE_CODE_RECONNECT[name] : 'backoff';
}
