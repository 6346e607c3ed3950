// The billing service the routes and the job share: top-ups (then the owner's standing is
// reviewed, so a top-up above zero resumes suspended apps at once) and the charge of one hour
// (then the hour is marked done). Its clock is injected: tests move time without waiting.
import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import type { AppOperationDeps } from '../apps/app-operations';
import { reviewStanding, type StandingDeps } from './account-standing';
import { completePeriod } from './billing-periods';
import { chargeHour, type ChargeHourOptions, type HourResult } from './hourly-charge';
import type { CreditRequest, PaymentProvider } from './payment-provider';
import { topUp, type TopUpResult } from './top-up';

export interface BillingDeps {
  db: Db;
  apps: AppOperationDeps;
  /** KARVON_BILLING_GRACE_HOURS, in ms */
  graceMs: number;
  logger: Logger;
  now?: () => Date;
}

export interface Billing {
  now(): Date;
  topUp(provider: PaymentProvider, request: CreditRequest): Promise<TopUpResult>;
  /** charges the hour (idempotently) and marks it done; the hour must have ended */
  runHour(hour: Date, opts?: ChargeHourOptions): Promise<HourResult>;
}

export function createBilling(deps: BillingDeps): Billing {
  const now = deps.now ?? (() => new Date());
  const standing: StandingDeps = { db: deps.db, apps: deps.apps, graceMs: deps.graceMs, logger: deps.logger };
  return {
    now,
    async topUp(provider, request) {
      const result = await topUp(deps.db, provider, request);
      await reviewStanding(standing, request.userId, now());
      return result;
    },
    async runHour(hour, opts) {
      const result = await chargeHour(standing, hour, opts);
      await completePeriod(deps.db, hour, now());
      return result;
    },
  };
}
