// Prepaid: nothing new starts on an empty wallet. Creating an app, deploying (deploy, rollback,
// restart), scaling up and starting an app call this first; stopping, scaling down and deleting
// never do, so a customer can always spend less. A user without a wallet has a balance of zero.
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { DEFAULT_CURRENCY, money } from './money';

export async function assertFunds(db: Db, userId: string): Promise<void> {
  const wallet = await db('wallets').where({ user_id: userId }).first<{ balance: string; currency: string } | undefined>('balance', 'currency');
  const balance = money(wallet?.balance ?? 0);
  const currency = wallet?.currency ?? DEFAULT_CURRENCY;
  if (balance > 0) return;
  throw new DomainError('INSUFFICIENT_FUNDS', `the balance is ${balance} ${currency}: top up the wallet first`, { balance, currency });
}
