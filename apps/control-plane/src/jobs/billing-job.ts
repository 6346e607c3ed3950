// The hourly charge, scheduled with node-cron a few seconds past every hour and once at start (to
// catch up hours missed while no control plane ran). Each tick claims ended hours one at a time,
// oldest first, in billing_periods (billing/billing-periods.ts), so several control planes share
// the work; an hour whose claimant died is taken over when its lease runs out, and re-charging it
// is harmless (each (app, hour) is charged once, billing/hourly-charge.ts).
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import type { Billing } from '../billing/billing';
import { claimPeriod, openPeriods, periodWindow } from '../billing/billing-periods';

export interface BillingJobDeps {
  db: Db;
  billing: Billing;
  logger: Logger;
  /** how far back missed hours are still charged (default 7 days); older ones need the admin run */
  catchUpHours?: number;
  /** an hour claimed longer ago than this is free again (default 15 minutes) */
  leaseMs?: number;
  /** cron expression (default: 5 s past every hour) */
  schedule?: string;
}

export interface BillingJob {
  /** charges every ended hour of the window nobody else holds; answers the hours it charged */
  tick(): Promise<string[]>;
  start(): void;
  stop(): Promise<void>;
}

export function createBillingJob(deps: BillingJobDeps): BillingJob {
  const owner = newId('cp');
  const catchUpHours = deps.catchUpHours ?? 7 * 24;
  const leaseMs = deps.leaseMs ?? 15 * 60_000;
  let task: ScheduledTask | undefined;
  let running: Promise<string[]> | undefined;

  async function charge(): Promise<string[]> {
    const window = periodWindow(deps.billing.now(), catchUpHours);
    await openPeriods(deps.db, window);
    const done: string[] = [];
    for (;;) {
      const hour = await claimPeriod(deps.db, window, { now: deps.billing.now(), owner, leaseMs });
      if (!hour) return done;
      const result = await deps.billing.runHour(hour);
      deps.logger.info(result, 'billing hour charged');
      done.push(result.hour);
    }
  }

  function tick(): Promise<string[]> {
    // One tick at a time in this process; a tick asked for meanwhile joins the one running.
    running ??= charge().finally(() => {
      running = undefined;
    });
    return running;
  }

  const tickLogged = () => {
    tick().catch((err: unknown) => deps.logger.error({ err }, 'billing tick failed; the hour is retried when its claim expires'));
  };

  return {
    tick,
    start() {
      tickLogged();
      task = cron.schedule(deps.schedule ?? '5 0 * * * *', tickLogged, { timezone: 'UTC', unref: true });
    },
    async stop() {
      await task?.destroy();
      await running?.catch(() => undefined);
    },
  };
}
