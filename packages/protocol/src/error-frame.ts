import type { ErrorPayload } from './frames/error';
import { protocolError, type ProtocolError, type ProtocolErrorCode } from './errors';
import { frame, type Frame } from './frame';

/**
 * An error frame for a code, with the code's default `recoverable` unless given. Accepts a
 * ProtocolError (a parseFrame failure) directly, so a receiver can answer a bad frame in one line.
 */
export function errorFrame(
  error: ProtocolError | ProtocolErrorCode,
  message?: string,
  extra: Partial<Pick<ErrorPayload, 'recoverable' | 'refType' | 'ref'>> = {},
): Frame<'error'> {
  const base = typeof error === 'string' ? protocolError(error, message ?? error, extra.recoverable) : protocolError(error.code, message ?? error.message, extra.recoverable ?? error.recoverable);
  const payload: ErrorPayload = { code: base.code, message: base.message, recoverable: base.recoverable };
  if (extra.refType !== undefined && extra.ref !== undefined) {
    payload.refType = extra.refType;
    payload.ref = extra.ref;
  }
  return frame('error', payload);
}
