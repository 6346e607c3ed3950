// Shared by the billing tests: the ledger's invariants, checked after every test, and apps with
// allocations at exact times, written as rows (the charge reads only times, so no agent is needed).
import type { Knex } from 'knex';
import { expect } from 'vitest';
import { newId } from '../src/db/ids';
import { createAppFixture, createNodeFixture } from '../../../test/fixtures';

/**
 * - every transaction is two entries that sum to zero (double entry);
 * - every wallet's balance equals the sum of its wallet-account entries, and its newest entry's
 *   balance_after;
 * - no (app, hour) is charged twice, and each usage record's amount is what the ledger charged.
 */
export async function expectLedgerInvariants(db: Knex): Promise<void> {
  const unbalanced = await db.raw<{ rows: unknown[] }>(
    `select transaction_id, sum(amount) as sum, count(*) as n from ledger_entries group by transaction_id having sum(amount) <> 0 or count(*) <> 2`,
  );
  expect(unbalanced.rows).toEqual([]);
  const drift = await db.raw<{ rows: unknown[] }>(
    `select w.id, w.balance, coalesce(sum(e.amount), 0) as entries from wallets w
     left join ledger_entries e on e.wallet_id = w.id and e.account = 'wallet'
     group by w.id having w.balance <> coalesce(sum(e.amount), 0)`,
  );
  expect(drift.rows).toEqual([]);
  const lastAfter = await db.raw<{ rows: unknown[] }>(
    `select w.id, w.balance, l.balance_after from wallets w
     join lateral (select balance_after from ledger_entries e where e.wallet_id = w.id and e.account = 'wallet' order by created_at desc limit 1) l on true
     where l.balance_after <> w.balance`,
  );
  expect(lastAfter.rows).toEqual([]);
  const twice = await db.raw<{ rows: unknown[] }>(
    `select app_id, period, count(*) from ledger_entries where type = 'charge' and account = 'wallet' group by app_id, period having count(*) > 1`,
  );
  expect(twice.rows).toEqual([]);
  const mismatch = await db.raw<{ rows: unknown[] }>(
    `select u.app_id, u.hour from usage_records u
     left join ledger_entries e on e.transaction_id = u.transaction_id and e.account = 'wallet'
     where (u.amount > 0 and (e.id is null or -e.amount <> u.amount)) or (u.amount = 0 and u.transaction_id is not null)`,
  );
  expect(mismatch.rows).toEqual([]);
}

export interface MeteredApp {
  appId: string;
  userId: string;
  planId: string;
}

/** An app (with its own owner and plan at `hourlyPrice`) and no allocations yet. */
export async function meteredApp(db: Knex, region: string, hourlyPrice: number, ownerId?: string): Promise<MeteredApp> {
  const f = await createAppFixture(db, region);
  const app = await db('apps').where({ id: f.appId }).first<{ owner_id: string; plan_id: string }>('owner_id', 'plan_id');
  await db('plans').where({ id: app.plan_id }).update({ hourly_price: hourlyPrice });
  if (ownerId) await db('apps').where({ id: f.appId }).update({ owner_id: ownerId });
  return { appId: f.appId, userId: ownerId ?? app.owner_id, planId: app.plan_id };
}

let node: Promise<string> | undefined;

/** An allocation of the app that lived from `from` to `to` (null: still live). */
export async function allocation(db: Knex, region: string, appId: string, from: Date, to: Date | null): Promise<string> {
  node ??= createNodeFixture(db, region, { cpuMillicores: 1_000_000, memoryMb: 1_000_000, diskMb: 1_000_000 });
  const id = newId('alc');
  await db('allocations').insert({ id, app_id: appId, node_id: await node, cpu_millicores: 250, memory_mb: 128, disk_mb: 512, created_at: from, stopped_at: to });
  return id;
}

export const minutes = (hour: Date, m: number) => new Date(hour.getTime() + m * 60_000);
