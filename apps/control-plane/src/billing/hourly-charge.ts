// Charges one hour: every app whose replicas ran in it, for the part they ran
// (charge-computation.ts), each (app, hour) at most once whoever runs it and however often.
//
// Exactly once: each app is charged in its own transaction that takes the owner's wallet row lock,
// then inserts the app's usage_records row for the hour (primary key (app_id, hour)) and, only if
// that insert made a row, posts the charge with the ledger key `charge:<app>:<hour>` (unique too).
// Concurrent runs of the same hour queue on the wallet lock and find the row; a run that died
// after charging some apps is re-run and charges only the rest, since each charge committed alone.
//
// The price is the app's plan's hourly price when the hour is charged, per replica-hour, in the
// wallet's currency; an app whose plan is priced in another currency is not charged (logged) —
// there is no conversion. After charging, the standing of every owner whose standing may have
// changed is reviewed as of the hour's end.
import type { Db } from '../db/connect';
import { hourEnd, HOUR_MS } from './billing-hour';
import { chargeAmount, replicaSecondsInHour, type AllocationLife } from './charge-computation';
import { ensureWallet, post, REVENUE_ACCOUNT } from './ledger';
import { money } from './money';
import { reviewStanding, type StandingDeps } from './account-standing';

export interface HourResult {
  hour: string;
  /** apps charged by this run */
  charged: number;
  /** apps this run found already charged for the hour */
  alreadyCharged: number;
  /** the sum this run charged, in minor units */
  amount: number;
}

export interface ChargeHourOptions {
  /** test seam: called after each app's charge committed (throwing simulates a crash mid-run) */
  afterCharge?: (appId: string) => void | Promise<void>;
}

interface AppUsage {
  appId: string;
  ownerId: string;
  hourlyPrice: number;
  currency: string;
  allocations: AllocationLife[];
}

async function loadUsage(db: Db, hour: Date): Promise<AppUsage[]> {
  const end = hourEnd(hour);
  const allocations = await db.raw<{
    rows: Array<{ id: string; app_id: string; owner_id: string; created_at: Date; stopped_at: Date | null; hourly_price: string; currency: string }>;
  }>(
    `select al.id, al.app_id, al.created_at, al.stopped_at, a.owner_id, p.hourly_price, p.currency
     from allocations al join apps a on a.id = al.app_id join plans p on p.id = a.plan_id
     where al.created_at < ? and (al.stopped_at is null or al.stopped_at > ?)
     order by al.app_id, al.id`,
    [end, hour],
  );
  const ids = allocations.rows.map((r) => r.id);
  const pauses = ids.length
    ? await db.raw<{ rows: Array<{ allocation_id: string; paused_at: Date; resumed_at: Date | null }> }>(
        `select allocation_id, paused_at, resumed_at from allocation_pauses
         where allocation_id = any(?) and paused_at < ? and (resumed_at is null or resumed_at > ?)`,
        [ids, end, hour],
      )
    : { rows: [] };
  const pausesOf = new Map<string, Array<{ from: Date; to: Date | null }>>();
  for (const p of pauses.rows) {
    const list = pausesOf.get(p.allocation_id) ?? [];
    list.push({ from: new Date(p.paused_at), to: p.resumed_at ? new Date(p.resumed_at) : null });
    pausesOf.set(p.allocation_id, list);
  }
  const apps = new Map<string, AppUsage>();
  for (const r of allocations.rows) {
    let app = apps.get(r.app_id);
    if (!app) {
      app = { appId: r.app_id, ownerId: r.owner_id, hourlyPrice: money(r.hourly_price), currency: r.currency, allocations: [] };
      apps.set(r.app_id, app);
    }
    app.allocations.push({ createdAt: new Date(r.created_at), stoppedAt: r.stopped_at ? new Date(r.stopped_at) : null, pauses: pausesOf.get(r.id) ?? [] });
  }
  return [...apps.values()];
}

type AppOutcome = { kind: 'charged'; amount: number } | { kind: 'already' } | { kind: 'skipped' };

async function chargeApp(deps: StandingDeps, app: AppUsage, hour: Date, seconds: number): Promise<AppOutcome> {
  const amount = chargeAmount(app.hourlyPrice, seconds);
  // A re-run's common case, answered without queueing on the wallet's lock; the insert below decides.
  if (await deps.db('usage_records').where({ app_id: app.appId, hour }).first('app_id')) return { kind: 'already' };
  return deps.db.transaction(async (trx) => {
    const wallet = await ensureWallet(trx, app.ownerId, { lock: true });
    if (wallet.currency !== app.currency) {
      deps.logger.error({ appId: app.appId, plan: app.currency, wallet: wallet.currency }, 'plan and wallet currencies differ: app not charged');
      return { kind: 'skipped' } as const;
    }
    const claimed = await trx.raw<{ rowCount: number }>(
      `insert into usage_records (app_id, hour, owner_id, replica_seconds, amount, currency) values (?, ?, ?, ?, ?, ?)
       on conflict (app_id, hour) do nothing`,
      [app.appId, hour, app.ownerId, seconds, amount, wallet.currency],
    );
    if (claimed.rowCount !== 1) return { kind: 'already' } as const;
    if (amount > 0) {
      const txn = await post(trx, wallet, {
        type: 'charge',
        amount: -amount,
        counterAccount: REVENUE_ACCOUNT,
        idempotencyKey: `charge:${app.appId}:${hour.toISOString()}`,
        appId: app.appId,
        period: hour,
      });
      await trx('usage_records').where({ app_id: app.appId, hour }).update({ transaction_id: txn.id });
    }
    return { kind: 'charged', amount } as const;
  });
}

export async function chargeHour(deps: StandingDeps, hour: Date, opts: ChargeHourOptions = {}): Promise<HourResult> {
  if (hour.getTime() % HOUR_MS !== 0) throw new RangeError(`not a whole hour: ${hour.toISOString()}`);
  const result: HourResult = { hour: hour.toISOString(), charged: 0, alreadyCharged: 0, amount: 0 };
  for (const app of await loadUsage(deps.db, hour)) {
    const seconds = replicaSecondsInHour(app.allocations, hour);
    if (seconds === 0) continue;
    const outcome = await chargeApp(deps, app, hour, seconds);
    if (outcome.kind === 'charged') {
      result.charged++;
      result.amount += outcome.amount;
      await opts.afterCharge?.(app.appId);
    } else if (outcome.kind === 'already') {
      result.alreadyCharged++;
    }
  }
  // Whose standing can have changed: the owners charged for the hour; wallets whose grace period is
  // over by the hour's end; and owners whose apps disagree with their wallet (a resume or a
  // suspension cut short by a crash, a rollout that finished after the suspension).
  const at = hourEnd(hour);
  const owners = await deps.db.raw<{ rows: Array<{ user_id: string }> }>(
    `select owner_id as user_id from usage_records where hour = ?
     union select user_id from wallets where status <> 'suspended' and grace_started_at <= ?
     union select a.owner_id from apps a join wallets w on w.user_id = a.owner_id
       where a.deleted_at is null and a.status <> 'deleting'
         and ((w.status = 'suspended' and a.desired_status = 'running') or (w.status <> 'suspended' and a.suspended_at is not null))
     order by 1`,
    [hour, new Date(at.getTime() - deps.graceMs)],
  );
  for (const { user_id } of owners.rows) await reviewStanding(deps, user_id, at);
  return result;
}
