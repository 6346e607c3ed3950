import { useState, type FormEvent } from 'react';
import { usePagedList } from '../paged-list';
import { Link } from '../router';
import type { AdminUser } from '../types';
import { ErrorBox, Field, fieldError, formatTime, Loading, LoadMoreButton, money } from '../ui';

/** Admin: users with their tier and wallet balance, searchable by email; "Credit" opens the credit form for one. */
export function CustomersPage() {
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  const list = usePagedList<AdminUser>(q ? `/admin/users?q=${encodeURIComponent(q)}` : '/admin/users');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setQ(search.trim());
  };
  return (
    <section>
      <h1>Customers</h1>
      <form className="card inline-form" role="search" onSubmit={submit} noValidate aria-label="Search customers">
        <Field label="Email contains" error={fieldError(list.error, 'q')}>
          {(p) => <input {...p} type="search" name="q" value={search} onChange={(e) => setSearch(e.target.value)} autoComplete="off" />}
        </Field>
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <ErrorBox error={list.error} />
      {list.loading ? <Loading what="customers" /> : null}
      {list.items && list.items.length === 0 ? <p className="muted">{q ? 'No user’s email contains that.' : 'No users yet.'}</p> : null}
      {list.items && list.items.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Customers">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Tier</th>
                <th scope="col">Balance</th>
                <th scope="col">Signed up</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((u) => (
                <tr key={u.id} data-user={u.id}>
                  <td>
                    {u.email}
                    <div className="muted small mono">{u.id}</div>
                  </td>
                  <td>{u.role}</td>
                  <td>{u.tier}</td>
                  <td data-testid="user-balance">{money(u.balance, u.currency)}</td>
                  <td>{formatTime(u.createdAt)}</td>
                  <td className="actions">
                    <Link to={`/admin/billing?user=${encodeURIComponent(u.id)}`} className="button" aria-label={`Credit wallet of ${u.email}`}>
                      Credit
                    </Link>{' '}
                    <Link to={`/admin/audit?target=${encodeURIComponent(`user:${u.id}`)}`} className="button" aria-label={`Audit log of ${u.email}`}>
                      Audit
                    </Link>
                  </td>
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
