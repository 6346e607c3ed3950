// Which hours the scheduled job still has to charge, shared by every control plane through
// billing_periods: one row per hour, claimed by one instance at a time (FOR UPDATE SKIP LOCKED, a
// lease so an instance that died mid-hour lets another take it over), completed once charged.
// Correctness does not rest on the claim — charges are exactly-once per (app, hour) on their own
// (hourly-charge.ts) — it only keeps instances from doing the same work.
import type { Db } from '../db/connect';
import { HOUR_MS, lastEndedHour } from './billing-hour';

export interface PeriodWindow {
  /** oldest hour still caught up after downtime */
  from: Date;
  /** newest ended hour */
  to: Date;
}

/** The hours a tick at `now` may charge: the last `catchUpHours` ended hours. */
export function periodWindow(now: Date, catchUpHours: number): PeriodWindow {
  const to = lastEndedHour(now);
  return { from: new Date(to.getTime() - (catchUpHours - 1) * HOUR_MS), to };
}

/**
 * Lists every ended hour of the window since billing began (the oldest row), so hours missed
 * during downtime are charged, oldest first. On a new installation (no rows) only the newest
 * ended hour: billing starts when it is installed, not retroactively.
 */
export async function openPeriods(db: Db, w: PeriodWindow): Promise<void> {
  await db.raw(
    `insert into billing_periods (hour)
     select generate_series(greatest(?::timestamptz, coalesce((select min(hour) from billing_periods), ?::timestamptz)), ?::timestamptz, interval '1 hour')
     on conflict (hour) do nothing`,
    [w.from, w.to, w.to],
  );
}

/** Claims the oldest open hour of the window nobody holds (or whose lease ran out). */
export async function claimPeriod(db: Db, w: PeriodWindow, opts: { now: Date; owner: string; leaseMs: number }): Promise<Date | undefined> {
  const res = await db.raw<{ rows: Array<{ hour: Date }> }>(
    `update billing_periods set claimed_at = ?, claimed_by = ?
     where hour = (
       select hour from billing_periods
       where completed_at is null and hour between ? and ? and (claimed_at is null or claimed_at < ?)
       order by hour limit 1
       for update skip locked)
     returning hour`,
    [opts.now, opts.owner, w.from, w.to, new Date(opts.now.getTime() - opts.leaseMs)],
  );
  const row = res.rows[0];
  return row ? new Date(row.hour) : undefined;
}

/** Marks an hour charged (also by an admin's run, which may come first or after). */
export async function completePeriod(db: Db, hour: Date, now: Date): Promise<void> {
  await db.raw(
    `insert into billing_periods (hour, completed_at) values (?, ?)
     on conflict (hour) do update set completed_at = coalesce(billing_periods.completed_at, excluded.completed_at)`,
    [hour, now],
  );
}
