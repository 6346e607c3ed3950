import { describe, expect, it } from 'vitest';
import { CLOSE_CODES, closeCodeForError, closeCodeName, reconnectPolicyFor } from './close-codes';
import { PROTOCOL_ERROR_CODES, PROTOCOL_ERROR_RECOVERABLE, protocolError } from './errors';

describe('close codes', () => {
  it('are unique and in the application range 4000–4999', () => {
    const codes = Object.values(CLOSE_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code >= 4000 && code <= 4999).toBe(true);
  });

  it('keep the documented numbers', () => {
    expect(CLOSE_CODES).toEqual({
      INTERNAL: 4000,
      UNAUTHENTICATED: 4001,
      PROTOCOL_VERSION_UNSUPPORTED: 4002,
      SUPERSEDED: 4003,
      NODE_REVOKED: 4004,
      POLICY_VIOLATION: 4008,
      MALFORMED: 4009,
    });
  });

  it('map every protocol error code to one of them', () => {
    const known = new Set<number>(Object.values(CLOSE_CODES));
    for (const code of PROTOCOL_ERROR_CODES) expect(known.has(closeCodeForError(code))).toBe(true);
    expect(closeCodeForError('RATE_LIMITED')).toBe(4008);
    expect(closeCodeForError('INVALID_FRAME')).toBe(4009);
  });

  it('tell the agent when not to reconnect', () => {
    expect(reconnectPolicyFor(4004)).toBe('never');
    expect(reconnectPolicyFor(4002)).toBe('never');
    expect(reconnectPolicyFor(4001)).toBe('refresh-token');
    expect(reconnectPolicyFor(4003)).toBe('backoff');
    expect(reconnectPolicyFor(1006)).toBe('backoff');
    expect(closeCodeName(4009)).toBe('MALFORMED');
    expect(closeCodeName(4999)).toBeUndefined();
  });
});

describe('protocol errors', () => {
  it('have a fixed recoverable default for every code', () => {
    for (const code of PROTOCOL_ERROR_CODES) expect(typeof PROTOCOL_ERROR_RECOVERABLE[code]).toBe('boolean');
    expect(protocolError('RATE_LIMITED', 'slow down')).toEqual({ code: 'RATE_LIMITED', message: 'slow down', recoverable: true });
    expect(protocolError('SUPERSEDED', 'x').recoverable).toBe(false);
    expect(protocolError('INVALID_FRAME', 'x', false).recoverable).toBe(false);
  });

  it('cut long messages', () => {
    expect(protocolError('INTERNAL', 'x'.repeat(10_000)).message.length).toBeLessThanOrEqual(1024);
  });
});
