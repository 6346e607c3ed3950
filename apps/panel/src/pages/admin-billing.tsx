import { useState, type FormEvent } from 'react';
import { api } from '../api';
import type { Transaction } from '../types';
import { ErrorBox, Field, fieldError, money, useAction } from '../ui';

/** Credit a customer's wallet by hand (money received outside Karvon). */
export function AdminBillingPage() {
  // The customers page links here with `?user=<id>`.
  const [userId, setUserId] = useState(() => new URLSearchParams(location.search).get('user') ?? '');
  const [amount, setAmount] = useState('');
  const [note, setNote] = useState('');
  // One key per filled-in form: a double submit does not credit twice.
  const [key, setKey] = useState(() => crypto.randomUUID());
  const [done, setDone] = useState<Transaction | null>(null);
  const credit = useAction(async () => {
    const n = Number(amount);
    const tx = await api.post<Transaction>(`/admin/users/${encodeURIComponent(userId)}/wallet/credit`, {
      amount: amount.trim() !== '' && Number.isFinite(n) ? n : amount,
      idempotencyKey: key,
      ...(note ? { note } : {}),
    });
    setDone(tx);
    setKey(crypto.randomUUID());
    setAmount('');
    setNote('');
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void credit.run();
  };
  return (
    <section>
      <h1>Credit a wallet</h1>
      <form className="card" onSubmit={submit} noValidate aria-label="Credit a wallet">
        <Field label="User id" error={fieldError(credit.error, 'userId')}>
          {(p) => <input {...p} name="userId" className="mono" value={userId} onChange={(e) => setUserId(e.target.value)} autoComplete="off" />}
        </Field>
        <Field label="Amount (minor units)" error={fieldError(credit.error, 'amount')} hint="An integer in the currency's minor unit, e.g. 100000 = 1 000.00 UZS.">
          {(p) => <input {...p} name="amount" inputMode="numeric" value={amount} onChange={(e) => setAmount(e.target.value)} />}
        </Field>
        <Field label="Note" error={fieldError(credit.error, 'note')}>
          {(p) => <input {...p} name="note" value={note} onChange={(e) => setNote(e.target.value)} />}
        </Field>
        <ErrorBox error={credit.error} />
        <button type="submit" className="primary" disabled={credit.pending}>
          Credit
        </button>
      </form>
      {done ? (
        <p role="status" className="ok">
          Credited {money(done.amount, done.currency)}; balance now {money(done.balanceAfter, done.currency)}.
        </p>
      ) : null}
    </section>
  );
}
