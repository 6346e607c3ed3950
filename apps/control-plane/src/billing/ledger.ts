// The double-entry ledger. Every transaction is two entries of opposite sign in one statement: one
// on the customer's wallet account (`wallet`), one on a platform account (`payments:<provider>`
// for money received, `revenue` for charges), so a transaction always sums to zero. The same
// statement moves the wallet's balance and stamps the new balance on the wallet entry: the
// balance column equals the sum of the wallet's `wallet` entries at every commit, and nothing
// can write one without the other. Entries are never updated or deleted (a trigger refuses it).
import type { Knex } from 'knex';
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DEFAULT_CURRENCY, money } from './money';
import type { WalletStatus } from './wallet-standing';

type Conn = Db | Knex.Transaction;

export const WALLET_ACCOUNT = 'wallet';
export const REVENUE_ACCOUNT = 'revenue';
export const paymentsAccount = (provider: string) => `payments:${provider}`;

export type TransactionType = 'topup' | 'charge' | 'refund' | 'adjustment';

export interface WalletRow {
  id: string;
  user_id: string;
  currency: string;
  balance: string;
  status: WalletStatus;
  low_since: Date | null;
  grace_started_at: Date | null;
  suspended_at: Date | null;
}

export interface LedgerTransaction {
  id: string;
  type: TransactionType;
  /** signed, as seen from the wallet: a top-up is positive, a charge negative */
  amount: number;
  balanceAfter: number;
  currency: string;
  createdAt: string;
  appId?: string;
  period?: string;
  note?: string;
}

/** The user's wallet, created on first use (a concurrent first use finds the other's row). */
export async function ensureWallet(db: Conn, userId: string, opts: { lock?: boolean } = {}): Promise<WalletRow> {
  await db.raw(`insert into wallets (id, user_id, currency) values (?, ?, ?) on conflict (user_id) do nothing`, [newId('wal'), userId, DEFAULT_CURRENCY]);
  const q = db('wallets').where({ user_id: userId });
  const row = await (opts.lock ? q.forUpdate() : q).first<WalletRow | undefined>();
  if (!row) throw new Error(`wallet of ${userId} vanished`);
  return row;
}

export interface Posting {
  type: TransactionType;
  /** signed amount on the wallet; the platform account gets the opposite */
  amount: number;
  /** the platform account on the other side */
  counterAccount: string;
  /** unique per transaction across the ledger; a second posting with it is refused by the index */
  idempotencyKey: string;
  appId?: string;
  period?: Date;
  note?: string;
}

export interface EntryRow {
  id: string;
  transaction_id: string;
  type: TransactionType;
  amount: string;
  balance_after: string | null;
  app_id: string | null;
  period: Date | null;
  note: string | null;
  created_at: Date;
}

/**
 * Writes one balanced transaction and moves the balance, in ONE statement. The caller holds the
 * wallet's row lock (ensureWallet with lock) inside `trx` and has checked the key is unused.
 * Entries are stamped with the clock at the write, under that lock, not at the transaction's
 * start: a wallet's entries then sort in the order their balances were computed.
 */
export async function post(trx: Knex.Transaction, wallet: WalletRow, p: Posting): Promise<LedgerTransaction> {
  if (!Number.isSafeInteger(p.amount) || p.amount === 0) throw new RangeError(`ledger amount ${p.amount}`);
  const txn = newId('txn');
  const res = await trx.raw<{ rows: EntryRow[] }>(
    `with w as (
       update wallets set balance = balance + ?::bigint, updated_at = now() where id = ? returning balance
     )
     insert into ledger_entries (id, wallet_id, transaction_id, account, type, amount, balance_after, idempotency_key, app_id, period, note, created_at)
     select v.id, ?, ?, v.account, ?, v.amount, case when v.account = ? then (select balance from w) end, ?, ?, ?::timestamptz, ?, clock_timestamp()
     from (values (?, ?, ?::bigint), (?, ?, ?::bigint)) as v(id, account, amount)
     where exists (select 1 from w)
     returning id, transaction_id, type, amount, balance_after, app_id, period, note, created_at, account`,
    [
      p.amount,
      wallet.id,
      wallet.id,
      txn,
      p.type,
      WALLET_ACCOUNT,
      p.idempotencyKey,
      p.appId ?? null,
      p.period ?? null,
      p.note ?? null,
      newId('led'),
      WALLET_ACCOUNT,
      p.amount,
      newId('led'),
      p.counterAccount,
      -p.amount,
    ],
  );
  const entry = (res.rows as Array<EntryRow & { account: string }>).find((r) => r.account === WALLET_ACCOUNT);
  if (!entry || res.rows.length !== 2) throw new Error(`ledger posting for wallet ${wallet.id} wrote ${res.rows.length} entries`);
  return transactionView(entry, wallet.currency);
}

/** The wallet side of the transaction with this key, if it was posted. */
export async function findByKey(db: Conn, idempotencyKey: string, currency: string): Promise<LedgerTransaction | undefined> {
  const row = await db('ledger_entries').where({ idempotency_key: idempotencyKey, account: WALLET_ACCOUNT }).first<EntryRow | undefined>();
  return row && transactionView(row, currency);
}

export function transactionView(r: EntryRow, currency: string): LedgerTransaction {
  return {
    id: r.transaction_id,
    type: r.type,
    amount: money(r.amount),
    balanceAfter: money(r.balance_after),
    currency,
    createdAt: new Date(r.created_at).toISOString(),
    ...(r.app_id ? { appId: r.app_id } : {}),
    ...(r.period ? { period: new Date(r.period).toISOString() } : {}),
    ...(r.note ? { note: r.note } : {}),
  };
}

/**
 * The wallet's transactions, newest first, keyset-paged on (created_at, entry id). Times are
 * compared at the cursor's millisecond precision, so a row is never skipped between pages.
 */
export async function listTransactions(db: Db, wallet: WalletRow, page: { limit: number; cursor?: { at: string; id: string } }): Promise<EntryRow[]> {
  const q = db('ledger_entries').where({ wallet_id: wallet.id, account: WALLET_ACCOUNT });
  if (page.cursor) {
    const c = page.cursor;
    q.andWhereRaw(`(date_trunc('milliseconds', created_at), id) < (?::timestamptz, ?)`, [c.at, c.id]);
  }
  return q.orderByRaw(`date_trunc('milliseconds', created_at) desc, id desc`).limit(page.limit + 1).select<EntryRow[]>('*');
}
