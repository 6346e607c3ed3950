import { useState, type FormEvent } from 'react';
import { api, type Page } from '../api';
import type { Plan, Region, Runtime } from '../types';
import { ConfirmButton, cpu, ErrorBox, Field, fieldError, mb, money, useAction, useLoad } from '../ui';

function numberOr(v: string): number | string | undefined {
  if (v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

function Regions() {
  const regions = useLoad((signal) => api.get<Page<Region>>('/regions?limit=200', { signal }), []);
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const create = useAction(async () => {
    await api.post('/admin/regions', { id, name });
    setId('');
    setName('');
    regions.reload();
  });
  const remove = useAction(async (rid: string) => {
    await api.del(`/admin/regions/${encodeURIComponent(rid)}`);
    regions.reload();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run();
  };
  return (
    <div className="card">
      <h2>Regions</h2>
      <ErrorBox error={regions.error ?? remove.error} />
      <ul className="plain">
        {regions.data?.items.map((r) => (
          <li key={r.id}>
            <span className="mono">{r.id}</span> — {r.name} <ConfirmButton label="Delete" confirmLabel={`Delete region ${r.id}?`} onConfirm={() => void remove.run(r.id)} />
          </li>
        ))}
      </ul>
      <form className="inline-form" onSubmit={submit} noValidate aria-label="New region">
        <Field label="Region id" error={fieldError(create.error, 'id')}>
          {(p) => <input {...p} name="regionId" value={id} onChange={(e) => setId(e.target.value)} />}
        </Field>
        <Field label="Region name" error={fieldError(create.error, 'name')}>
          {(p) => <input {...p} name="regionName" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <button type="submit" disabled={create.pending}>
          Add region
        </button>
      </form>
      <ErrorBox error={create.error} />
    </div>
  );
}

function Plans() {
  const plans = useLoad((signal) => api.get<Page<Plan>>('/admin/plans?limit=200', { signal }), []);
  const [f, setF] = useState({ id: '', name: '', cpuMillicores: '250', memoryMb: '256', diskMb: '1024', hourlyPrice: '100', currency: '' });
  const create = useAction(async () => {
    await api.post('/admin/plans', {
      ...(f.id ? { id: f.id } : {}),
      name: f.name,
      cpuMillicores: numberOr(f.cpuMillicores),
      memoryMb: numberOr(f.memoryMb),
      diskMb: numberOr(f.diskMb),
      hourlyPrice: numberOr(f.hourlyPrice),
      ...(f.currency ? { currency: f.currency } : {}),
    });
    setF({ ...f, id: '', name: '' });
    plans.reload();
  });
  const change = useAction(async (id: string, body: unknown) => {
    if (body === null) await api.del(`/admin/plans/${encodeURIComponent(id)}`);
    else await api.patch(`/admin/plans/${encodeURIComponent(id)}`, body);
    plans.reload();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run();
  };
  const input = (key: keyof typeof f, label: string, hint?: string) => (
    <Field label={label} error={fieldError(create.error, key)} hint={hint}>
      {(p) => <input {...p} name={`plan-${key}`} value={f[key]} onChange={(e) => setF({ ...f, [key]: e.target.value })} />}
    </Field>
  );
  return (
    <div className="card">
      <h2>Plans</h2>
      <ErrorBox error={plans.error ?? change.error} />
      <div className="table-wrap">
        <table aria-label="Plans">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              <th scope="col">Resources</th>
              <th scope="col">Price / hour</th>
              <th scope="col">Active</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {plans.data?.items.map((p) => (
              <tr key={p.id}>
                <td className="mono">{p.id}</td>
                <td>{p.name}</td>
                <td>
                  {cpu(p.cpuMillicores)}, {mb(p.memoryMb)} RAM, {mb(p.diskMb)} disk
                </td>
                <td>{money(p.hourlyPrice, p.currency)}</td>
                <td>{p.active ? 'yes' : 'no'}</td>
                <td className="actions">
                  <button type="button" onClick={() => void change.run(p.id, { active: !p.active })}>
                    {p.active ? 'Deactivate' : 'Activate'}
                  </button>{' '}
                  <ConfirmButton label="Delete" confirmLabel={`Delete plan ${p.id}?`} onConfirm={() => void change.run(p.id, null)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form className="inline-form" onSubmit={submit} noValidate aria-label="New plan">
        {input('id', 'Plan id', 'Optional')}
        {input('name', 'Plan name')}
        {input('cpuMillicores', 'CPU (millicores)')}
        {input('memoryMb', 'Memory (MB)')}
        {input('diskMb', 'Disk (MB)')}
        {input('hourlyPrice', 'Price per hour (minor units)')}
        {input('currency', 'Currency', 'Default UZS')}
        <button type="submit" disabled={create.pending}>
          Add plan
        </button>
      </form>
      <ErrorBox error={create.error} />
    </div>
  );
}

function Runtimes() {
  const runtimes = useLoad((signal) => api.get<Page<Runtime>>('/admin/runtimes?limit=200', { signal }), []);
  const [f, setF] = useState({ kind: 'node', version: '', baseImage: '', buildCommand: '', startCommand: '' });
  const create = useAction(async () => {
    await api.post('/admin/runtimes', {
      kind: f.kind,
      version: f.version,
      baseImage: f.baseImage,
      ...(f.buildCommand ? { buildCommand: f.buildCommand } : {}),
      ...(f.startCommand ? { startCommand: f.startCommand } : {}),
    });
    setF({ ...f, version: '', baseImage: '', buildCommand: '', startCommand: '' });
    runtimes.reload();
  });
  const remove = useAction(async (id: string) => {
    await api.del(`/admin/runtimes/${encodeURIComponent(id)}`);
    runtimes.reload();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run();
  };
  const input = (key: Exclude<keyof typeof f, 'kind'>, label: string) => (
    <Field label={label} error={fieldError(create.error, key)}>
      {(p) => <input {...p} name={`runtime-${key}`} value={f[key]} onChange={(e) => setF({ ...f, [key]: e.target.value })} />}
    </Field>
  );
  return (
    <div className="card">
      <h2>Runtimes</h2>
      <ErrorBox error={runtimes.error ?? remove.error} />
      <div className="table-wrap">
        <table aria-label="Runtimes">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Kind</th>
              <th scope="col">Version</th>
              <th scope="col">Base image</th>
              <th scope="col">Build / start</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {runtimes.data?.items.map((r) => (
              <tr key={r.id}>
                <td className="mono">{r.id}</td>
                <td>{r.kind}</td>
                <td>{r.version}</td>
                <td className="mono">{r.baseImage}</td>
                <td className="mono small">
                  {r.buildCommand ?? '—'} / {r.startCommand ?? '—'}
                </td>
                <td>
                  <ConfirmButton label="Delete" confirmLabel={`Delete runtime ${r.id}?`} onConfirm={() => void remove.run(r.id)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form className="inline-form" onSubmit={submit} noValidate aria-label="New runtime">
        <Field label="Kind" error={fieldError(create.error, 'kind')}>
          {(p) => (
            <select {...p} value={f.kind} onChange={(e) => setF({ ...f, kind: e.target.value })}>
              {['node', 'python', 'go', 'php', 'static'].map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          )}
        </Field>
        {input('version', 'Version')}
        {input('baseImage', 'Base image')}
        {input('buildCommand', 'Build command')}
        {input('startCommand', 'Start command')}
        <button type="submit" disabled={create.pending}>
          Add runtime
        </button>
      </form>
      <ErrorBox error={create.error} />
    </div>
  );
}

export function CatalogPage() {
  return (
    <section>
      <h1>Catalog</h1>
      <Regions />
      <Plans />
      <Runtimes />
    </section>
  );
}
