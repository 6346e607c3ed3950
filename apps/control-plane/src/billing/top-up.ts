// Booking a confirmed payment: one ledger transaction per (provider, user, reference). A replay
// with the same key and amount answers the transaction booked the first time; the same key with
// another amount is a different payment wearing a used key, refused with 409.
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { ensureWallet, findByKey, paymentsAccount, post, type LedgerTransaction } from './ledger';
import type { CreditRequest, PaymentProvider } from './payment-provider';

export interface TopUpResult {
  transaction: LedgerTransaction;
  /** false: a replay, nothing new was booked */
  created: boolean;
}

export async function topUp(db: Db, provider: PaymentProvider, request: CreditRequest): Promise<TopUpResult> {
  const user = await db('users').where({ id: request.userId }).first<{ id: string } | undefined>('id');
  if (!user) throw new DomainError('NOT_FOUND', 'user not found');
  const payment = await provider.credit(request);
  const key = `topup:${provider.name}:${request.userId}:${payment.reference}`;
  return db.transaction(async (trx) => {
    // The wallet's row lock orders concurrent replays: the second finds the first's entry.
    const wallet = await ensureWallet(trx, request.userId, { lock: true });
    const existing = await findByKey(trx, key, wallet.currency);
    if (existing) {
      if (existing.amount !== payment.amount) {
        throw new DomainError('CONFLICT', `idempotencyKey was used for a credit of ${existing.amount} ${wallet.currency}`, {
          idempotencyKey: request.idempotencyKey,
          amount: existing.amount,
        });
      }
      return { transaction: existing, created: false };
    }
    const transaction = await post(trx, wallet, {
      type: 'topup',
      amount: payment.amount,
      counterAccount: paymentsAccount(provider.name),
      idempotencyKey: key,
      ...(payment.note ? { note: payment.note } : {}),
    });
    return { transaction, created: true };
  });
}
