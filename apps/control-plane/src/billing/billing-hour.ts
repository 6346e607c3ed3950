// An hour of billing is named by its start, a whole UTC hour: [hour, hour + 1 h).
import { z } from 'zod';

export const HOUR_MS = 3_600_000;

export function hourStart(at: Date): Date {
  return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
}

export function hourEnd(hour: Date): Date {
  return new Date(hour.getTime() + HOUR_MS);
}

/** The newest hour that has ended at `now`: only ended hours are charged (a running hour's future is unknown). */
export function lastEndedHour(now: Date): Date {
  return new Date(hourStart(now).getTime() - HOUR_MS);
}

/** `2030-01-01T10:00:00Z` (or `.000Z`, or an offset that lands on a whole UTC hour). */
export const isoHour = z
  .string()
  .max(40)
  .refine((v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)), 'an ISO-8601 time such as 2030-01-01T10:00:00Z')
  .transform((v) => new Date(Date.parse(v)))
  .refine((d) => d.getTime() % HOUR_MS === 0, 'a whole hour (minutes and seconds zero, UTC)');
