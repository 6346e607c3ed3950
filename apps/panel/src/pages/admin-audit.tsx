import { useState, type FormEvent } from 'react';
import { usePagedList } from '../paged-list';
import type { AuditEntry } from '../types';
import { ErrorBox, Field, fieldError, formatTime, Loading, LoadMoreButton } from '../ui';

const FILTERS = ['actor', 'action', 'target'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

function fromLocation(): Filters {
  const s = new URLSearchParams(location.search);
  return { actor: s.get('actor') ?? '', action: s.get('action') ?? '', target: s.get('target') ?? '' };
}

function actorText(a: AuditEntry['actor']): string {
  return a.email ?? a.id ?? a.type;
}

/** Admin: every mutating call with who made it, on what and from where; newest first. */
export function AuditPage() {
  const [form, setForm] = useState<Filters>(fromLocation);
  const [applied, setApplied] = useState<Filters>(form);
  const params = new URLSearchParams();
  for (const k of FILTERS) if (applied[k].trim()) params.set(k, applied[k].trim());
  const query = params.toString();
  const list = usePagedList<AuditEntry>(query ? `/admin/audit?${query}` : '/admin/audit');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied(form);
  };
  const input = (k: keyof Filters, label: string, hint: string) => (
    <Field label={label} error={fieldError(list.error, k)} hint={hint}>
      {(p) => <input {...p} name={k} value={form[k]} onChange={(e) => setForm({ ...form, [k]: e.target.value })} autoComplete="off" />}
    </Field>
  );
  return (
    <section>
      <div className="page-head">
        <h1>Audit log</h1>
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <form className="card inline-form" role="search" onSubmit={submit} noValidate aria-label="Filter the audit log">
        {input('actor', 'Actor', 'A user id, node id or email.')}
        {input('action', 'Action starts with', 'e.g. wallet. or auth.register')}
        {input('target', 'Target', 'e.g. user:usr_…')}
        <button type="submit" className="primary">
          Filter
        </button>
      </form>
      <ErrorBox error={list.error} />
      {list.loading ? <Loading what="the audit log" /> : null}
      {list.items && list.items.length === 0 ? <p className="muted">Nothing recorded{query ? ' that matches' : ''}.</p> : null}
      {list.items && list.items.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Audit log">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Status</th>
                <th scope="col">Address</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((e) => (
                <tr key={e.id} data-audit={e.id}>
                  <td>{formatTime(e.at)}</td>
                  <td>
                    {actorText(e.actor)} <span className="muted small">({e.actor.type})</span>
                  </td>
                  <td className="mono">{e.action}</td>
                  <td className="mono">{e.target ?? '—'}</td>
                  <td className={e.status !== null && e.status >= 400 ? 'neg' : undefined}>{e.status ?? '—'}</td>
                  <td className="mono">{e.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <LoadMoreButton list={list} />
    </section>
  );
}
