// Money at the edge: integers in the currency's minor unit (API.md). Amounts are bounded well
// below 2^53 so they stay exact as JavaScript numbers after bigint columns are read back.
import { z } from 'zod';

export const DEFAULT_CURRENCY = 'UZS';

/** 10^13 minor units: 100 billion som, far above any real top-up, far below 2^53. */
export const MAX_AMOUNT = 10_000_000_000_000;

/** A positive amount; a string, a fraction, NaN, Infinity or more than MAX_AMOUNT is refused. */
export const positiveAmount = z
  .number({ error: 'a positive integer in the minor unit' })
  .int('a whole number of the minor unit')
  .positive('more than zero')
  .max(MAX_AMOUNT, `at most ${MAX_AMOUNT}`);

/** bigint columns arrive as strings (db/connect.ts); money stays within the safe range. */
export function money(v: string | number | null | undefined): number {
  const n = Number(v ?? 0);
  if (!Number.isSafeInteger(n)) throw new RangeError(`amount out of range: ${String(v)}`);
  return n;
}
