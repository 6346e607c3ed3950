import { useState, type ReactNode } from 'react';
import { api, toApiError, type Page } from '../api';
import type { App, Transaction, Usage, Wallet } from '../types';
import { ErrorBox, Field, formatTime, Loading, money, Status, useLoad } from '../ui';

/** Billing routes may be missing on an older control plane: a 404 means "not offered here". */
function NotOffered({ error, children }: { error: unknown; children?: ReactNode }) {
  if (error && toApiError(error).status === 404) {
    return <p className="muted">Billing is not available on this Karvon installation.</p>;
  }
  return (
    <>
      <ErrorBox error={error} />
      {children}
    </>
  );
}

export function BillingPage() {
  const [month, setMonth] = useState(new Date().toISOString().slice(0, 7));
  const wallet = useLoad((signal) => api.get<Wallet>('/billing/wallet', { signal }), [], 30_000);
  const txs = useLoad((signal) => api.get<Page<Transaction>>('/billing/transactions?limit=50', { signal }), []);
  const usage = useLoad((signal) => api.get<Usage>(`/billing/usage?month=${encodeURIComponent(month)}`, { signal }), [month]);
  const apps = useLoad((signal) => api.get<Page<App>>('/apps?limit=200', { signal }), []);
  const appName = (id: string | undefined) => (id ? (apps.data?.items.find((a) => a.id === id)?.name ?? id) : '');
  if (wallet.error && toApiError(wallet.error).status === 404) {
    return (
      <section>
        <h1>Billing</h1>
        <NotOffered error={wallet.error} />
      </section>
    );
  }
  return (
    <section>
      <h1>Billing</h1>
      <div className="card">
        <h2>Wallet</h2>
        <NotOffered error={wallet.error} />
        {wallet.loading ? <Loading what="the wallet" /> : null}
        {wallet.data ? (
          <p className="balance">
            <span data-testid="balance">{money(wallet.data.balance, wallet.data.currency)}</span> <Status value={wallet.data.status} />
          </p>
        ) : null}
        {wallet.data?.status === 'low' ? <p className="warn">Your balance is low: top up to keep your apps running.</p> : null}
        {wallet.data?.status === 'suspended' ? <p className="error">Your wallet is empty: apps are suspended until it is topped up.</p> : null}
        <p className="muted">Top-ups are credited by the operator.</p>
      </div>
      <div className="card">
        <h2>Usage</h2>
        <Field label="Month">
          {(p) => <input {...p} type="month" value={month} onChange={(e) => setMonth(e.target.value)} />}
        </Field>
        <NotOffered error={usage.error} />
        {usage.data ? (
          <div className="table-wrap">
            <table aria-label="Usage per app">
              <thead>
                <tr>
                  <th scope="col">App</th>
                  <th scope="col">Replica-hours</th>
                  <th scope="col">Amount</th>
                </tr>
              </thead>
              <tbody>
                {usage.data.items.map((u) => (
                  <tr key={u.appId}>
                    <td>{appName(u.appId)}</td>
                    <td>{u.hours.toFixed(2)}</td>
                    <td>{money(u.amount, usage.data!.currency)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Total</th>
                  <td />
                  <td>{money(usage.data.total, usage.data.currency)}</td>
                </tr>
              </tfoot>
            </table>
          </div>
        ) : null}
      </div>
      <div className="card">
        <h2>Transactions</h2>
        <NotOffered error={txs.error} />
        {txs.data && txs.data.items.length === 0 ? <p className="muted">No transactions yet.</p> : null}
        {txs.data && txs.data.items.length > 0 ? (
          <div className="table-wrap">
            <table aria-label="Transactions">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Type</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Balance after</th>
                  <th scope="col">App / period</th>
                  <th scope="col">Note</th>
                </tr>
              </thead>
              <tbody>
                {txs.data.items.map((t) => (
                  <tr key={t.id}>
                    <td>{formatTime(t.createdAt)}</td>
                    <td>{t.type}</td>
                    <td className={t.amount < 0 ? 'neg' : 'pos'}>{money(t.amount, t.currency)}</td>
                    <td>{money(t.balanceAfter, t.currency)}</td>
                    <td>
                      {appName(t.appId)} {t.period ?? ''}
                    </td>
                    <td>{t.note ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </div>
    </section>
  );
}
