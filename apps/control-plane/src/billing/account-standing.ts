// Applies wallet-standing.ts: under the wallet's row lock, the new standing and its notifications
// in one transaction; then the owner's apps are brought in line with the wallet, through desired
// state (apps/app-operations.ts), outside that transaction.
//
// The app step looks at the wallet as stored, not at the decision just made, so it also repairs
// what a crash between the two steps left behind, and what a rollout that finished after the
// suspension started again (the deploy engine sets desired_status running on success):
//   wallet suspended      every live app with desired_status running is marked suspended
//                         (apps.suspended_at) and stopped; images, env, domains and allocations stay
//   wallet not suspended  every app marked suspended is started again and unmarked
// Apps the owner stopped themselves are never marked, so a top-up does not start them.
import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import type { AppRow } from '../apps/app-row';
import { startApp, stopApp, type AppOperationDeps } from '../apps/app-operations';
import { ensureWallet, type WalletRow } from './ledger';
import { money } from './money';
import { notify } from './notifications';
import { decideStanding, type NotificationKind, type StandingDecision } from './wallet-standing';

export interface StandingDeps {
  db: Db;
  apps: AppOperationDeps;
  graceMs: number;
  logger: Logger;
}

/** The owner's hourly price of the apps that run, or would run again on resume (plan price × replicas). */
async function hourlyUsage(db: Db, userId: string): Promise<number> {
  const row = await db.raw<{ rows: Array<{ usage: string }> }>(
    `select coalesce(sum(p.hourly_price * a.replicas), 0)::bigint as usage
     from apps a join plans p on p.id = a.plan_id
     where a.owner_id = ? and a.deleted_at is null and a.status <> 'deleting' and a.current_release_id is not null
       and (a.desired_status = 'running' or a.suspended_at is not null)`,
    [userId],
  );
  return money(row.rows[0]?.usage);
}

function message(kind: NotificationKind, wallet: WalletRow, balance: number, suspendAt?: Date): string {
  switch (kind) {
    case 'wallet.low':
      return `Your balance is low: ${balance} ${wallet.currency} covers less than 24 hours of your apps. Top up to keep them running.`;
    case 'wallet.grace':
      return `Your balance is ${balance} ${wallet.currency}. Top up before ${suspendAt?.toISOString() ?? 'the grace period ends'} or your apps will be stopped.`;
    case 'wallet.suspended':
      return 'Your apps were stopped because the balance stayed at or below zero. Nothing was deleted: top up to start them again.';
    case 'wallet.resumed':
      return 'Your balance is above zero again: your apps are starting.';
  }
}

/** Re-decides the owner's standing at `at` and acts on it. Safe to call any number of times. */
export async function reviewStanding(deps: StandingDeps, userId: string, at: Date): Promise<StandingDecision> {
  const { db } = deps;
  const usage = await hourlyUsage(db, userId);
  const decision = await db.transaction(async (trx) => {
    const wallet = await ensureWallet(trx, userId, { lock: true });
    const balance = money(wallet.balance);
    const d = decideStanding(
      { status: wallet.status, lowSince: wallet.low_since, graceStartedAt: wallet.grace_started_at, suspendedAt: wallet.suspended_at, balance, hourlyUsage: usage },
      at,
      deps.graceMs,
    );
    const n = d.next;
    const same = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);
    if (n.status !== wallet.status || !same(n.lowSince, wallet.low_since) || !same(n.graceStartedAt, wallet.grace_started_at) || !same(n.suspendedAt, wallet.suspended_at)) {
      await trx('wallets')
        .where({ id: wallet.id })
        .update({ status: n.status, low_since: n.lowSince, grace_started_at: n.graceStartedAt, suspended_at: n.suspendedAt, updated_at: trx.fn.now() });
    }
    for (const x of d.notify) {
      await notify(trx, {
        userId,
        kind: x.kind,
        message: message(x.kind, wallet, balance, x.suspendAt),
        data: { balance, currency: wallet.currency, ...(x.suspendAt ? { suspendAt: x.suspendAt.toISOString() } : {}) },
        dedupeKey: `${x.kind}:${x.episode.toISOString()}`,
      });
    }
    return d;
  });
  await alignApps(deps, userId, at, decision.next.status === 'suspended');
  return decision;
}

async function alignApps(deps: StandingDeps, userId: string, at: Date, suspended: boolean): Promise<void> {
  const { db, logger } = deps;
  if (suspended) {
    const apps = await db('apps').where({ owner_id: userId, desired_status: 'running' }).whereNull('deleted_at').whereNot({ status: 'deleting' }).select<AppRow[]>('*');
    for (const app of apps) {
      // Marked first: a crash before the stop leaves a marked running app, stopped at the next review.
      await db('apps').where({ id: app.id }).update({ suspended_at: db.raw('coalesce(suspended_at, ?)', [at]) });
      await stopApp(deps.apps, app);
      logger.info({ appId: app.id, userId }, 'app suspended: balance at or below zero after the grace period');
    }
    return;
  }
  const marked = (await db('apps').where({ owner_id: userId }).whereNotNull('suspended_at').pluck('id')) as string[];
  for (const id of marked) {
    // Unmarking claims the resume: of several reviews at once, one starts the app.
    const [app] = await db('apps').where({ id }).whereNotNull('suspended_at').update({ suspended_at: null }).returning<AppRow[]>('*');
    if (!app || app.deleted_at || app.status === 'deleting') continue;
    try {
      await startApp(deps.apps, app);
      logger.info({ appId: app.id, userId }, 'app resumed after a top-up');
    } catch (err) {
      // No capacity now: marked again, so the next review (next hour, next top-up) retries.
      await db('apps').where({ id }).update({ suspended_at: at });
      logger.warn({ err, appId: app.id }, 'resuming a suspended app failed; will retry');
    }
  }
}
