import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { api, streamEvents, type Page } from '../api';
import { AnsiLine } from '../ansi';
import { TimeChart, toSeconds } from '../chart';
import { Link, navigate } from '../router';
import { DEPLOY_ENDED, type App, type AppMetrics, type Deploy, type Domain, type EnvVar, type Instance, type Release, type Webhook } from '../types';
import { SourcePanel } from './app-source';
import { ago, ConfirmButton, CopyButton, ErrorBox, Field, fieldError, formatTime, Loading, mb, Status, useAction, useLoad } from '../ui';

const TABS = [
  ['overview', 'Overview'],
  ['deploys', 'Deploys'],
  ['releases', 'Releases'],
  ['env', 'Environment'],
  ['logs', 'Logs'],
  ['metrics', 'Metrics'],
  ['domains', 'Domains'],
  ['source', 'Source'],
  ['webhook', 'Webhook'],
] as const;

export function AppPage({ id, tab }: { id: string; tab: string }) {
  const base = `/apps/${encodeURIComponent(id)}`;
  const app = useLoad((signal) => api.get<App>(base, { signal }), [id], 3000);
  const deploy = useAction(async () => {
    const d = await api.post<Deploy>(`${base}/deploys`, {});
    navigate(`${base}/deploys?deploy=${encodeURIComponent(d.id)}`);
  });
  if (app.error && !app.data) return <ErrorBox error={app.error} />;
  if (!app.data) return <Loading what="the app" />;
  const a = app.data;
  return (
    <section>
      <div className="page-head">
        <div>
          <h1>{a.name}</h1>
          <p className="muted">
            <Status value={a.status} /> · <span className="mono" data-testid="hostname">{a.hostname}</span> · {a.region} · {a.planId} ·{' '}
            {a.source.type === 'image' ? `image ${a.source.image}` : `git ${a.source.url}#${a.source.branch ?? ''}`}
          </p>
        </div>
        <button type="button" className="primary" onClick={() => void deploy.run()} disabled={deploy.pending}>
          Deploy
        </button>
      </div>
      <ErrorBox error={deploy.error} />
      <nav className="tabs" aria-label="App sections">
        {TABS.filter(([key]) => key !== 'source' || a.source.type === 'git').map(([key, label]) => (
          <Link key={key} to={key === 'overview' ? base : `${base}/${key}`} aria-current={tab === key ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {tab === 'overview' ? <Overview app={a} onChange={app.reload} /> : null}
      {tab === 'deploys' ? <Deploys appId={id} /> : null}
      {tab === 'releases' ? <Releases appId={id} /> : null}
      {tab === 'env' ? <EnvEditor appId={id} /> : null}
      {tab === 'logs' ? <RuntimeLogs appId={id} /> : null}
      {tab === 'metrics' ? <Metrics appId={id} /> : null}
      {tab === 'domains' ? <Domains appId={id} /> : null}
      {tab === 'source' ? <SourcePanel app={a} onChange={app.reload} /> : null}
      {tab === 'webhook' ? <WebhookPanel appId={id} /> : null}
    </section>
  );
}

function Overview({ app, onChange }: { app: App; onChange: () => void }) {
  const base = `/apps/${encodeURIComponent(app.id)}`;
  const instances = useLoad((signal) => api.get<Page<Instance>>(`${base}/instances`, { signal }), [app.id], 5000);
  const [replicas, setReplicas] = useState(String(app.replicas));
  const [notice, setNotice] = useState('');
  const act = useAction(async (what: 'stop' | 'start' | 'restart' | 'scale' | 'delete') => {
    if (what === 'delete') {
      await api.del(base);
      navigate('/apps');
      return;
    }
    const body = what === 'scale' ? { replicas: replicas.trim() === '' ? undefined : Number.isFinite(Number(replicas)) ? Number(replicas) : replicas } : {};
    await api.post(`${base}/${what}`, body);
    setNotice(`${what} requested`);
    onChange();
    instances.reload();
  });
  const scale = (e: FormEvent) => {
    e.preventDefault();
    void act.run('scale');
  };
  return (
    <>
      <div className="card">
        <h2>Run</h2>
        <div className="row">
          <button type="button" onClick={() => void act.run('restart')} disabled={act.pending}>
            Restart
          </button>
          {app.status === 'stopped' ? (
            <button type="button" onClick={() => void act.run('start')} disabled={act.pending}>
              Start
            </button>
          ) : (
            <button type="button" onClick={() => void act.run('stop')} disabled={act.pending}>
              Stop
            </button>
          )}
          <ConfirmButton label="Delete app" confirmLabel={`Delete ${app.name} and its containers?`} onConfirm={() => void act.run('delete')} />
        </div>
        <form className="inline-form" onSubmit={scale} noValidate aria-label="Scale">
          <Field label="Replicas" error={fieldError(act.error, 'replicas')}>
            {(p) => <input {...p} name="replicas" inputMode="numeric" value={replicas} onChange={(e) => setReplicas(e.target.value)} />}
          </Field>
          <button type="submit" disabled={act.pending}>
            Scale
          </button>
        </form>
        <ErrorBox error={act.error} />
        {notice && !act.error ? (
          <p role="status" className="ok">
            {notice}
          </p>
        ) : null}
      </div>
      <div className="card">
        <h2>Instances</h2>
        <ErrorBox error={instances.error} />
        {instances.data && instances.data.items.length === 0 ? <p className="muted">No instances running.</p> : null}
        {instances.data && instances.data.items.length > 0 ? (
          <div className="table-wrap">
            <table aria-label="Instances">
              <thead>
                <tr>
                  <th scope="col">Instance</th>
                  <th scope="col">Status</th>
                  <th scope="col">Node</th>
                  <th scope="col">Release</th>
                  <th scope="col">Started</th>
                  <th scope="col">Restarts</th>
                  <th scope="col">CPU</th>
                  <th scope="col">Memory</th>
                  <th scope="col">Upstream</th>
                </tr>
              </thead>
              <tbody>
                {instances.data.items.map((i) => (
                  <tr key={i.id}>
                    <td className="mono">{i.id}</td>
                    <td>
                      <Status value={i.status} />
                      {i.message ? <div className="muted small">{i.message}</div> : null}
                    </td>
                    <td className="mono">{i.nodeId}</td>
                    <td>{i.release ?? '—'}</td>
                    <td>{ago(i.startedAt)}</td>
                    <td>{i.restarts}</td>
                    <td>{i.cpuPercent === null ? '—' : `${i.cpuPercent.toFixed(1)} %`}</td>
                    <td>{mb(i.memoryMb)}</td>
                    <td className="mono">{i.upstream ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </div>
    </>
  );
}

function Deploys({ appId }: { appId: string }) {
  const base = `/apps/${encodeURIComponent(appId)}`;
  const deploys = useLoad((signal) => api.get<Page<Deploy>>(`${base}/deploys?limit=50`, { signal }), [appId], 3000);
  const [selected, setSelected] = useState<string | null>(new URLSearchParams(location.search).get('deploy'));
  const shown = selected ?? deploys.data?.items[0]?.id ?? null;
  return (
    <div className="card">
      <h2>Deploys</h2>
      <ErrorBox error={deploys.error} />
      {deploys.loading ? <Loading what="deploys" /> : null}
      {deploys.data && deploys.data.items.length === 0 ? <p className="muted">No deploys yet: press Deploy.</p> : null}
      {deploys.data && deploys.data.items.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Deploys">
            <thead>
              <tr>
                <th scope="col">Deploy</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">Release</th>
                <th scope="col">Started</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {deploys.data.items.map((d) => (
                <tr key={d.id} data-deploy={d.id} className={d.id === shown ? 'selected' : undefined}>
                  <td>
                    <button type="button" className="linklike mono" onClick={() => setSelected(d.id)} aria-pressed={d.id === shown}>
                      {d.id}
                    </button>
                  </td>
                  <td>{d.kind}</td>
                  <td>
                    <Status value={d.status} />
                  </td>
                  <td>{d.releaseNumber ?? '—'}</td>
                  <td>{formatTime(d.createdAt)}</td>
                  <td>{d.error ? `${d.error.code}: ${d.error.message}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {shown ? <DeployLog key={shown} deployId={shown} /> : null}
    </div>
  );
}

function DeployLog({ deployId }: { deployId: string }) {
  const path = `/deploys/${encodeURIComponent(deployId)}`;
  const deploy = useLoad((signal) => api.get<Deploy>(path, { signal }), [deployId], 2000);
  const [lines, setLines] = useState<string[]>([]);
  const [streamError, setStreamError] = useState<unknown>();
  const [live, setLive] = useState(false);
  useEffect(() => {
    const ctrl = new AbortController();
    setLines([]);
    setLive(true);
    streamEvents(
      `${path}/logs?follow=1`,
      (e) => {
        if (e.event === 'log') {
          const { line } = JSON.parse(e.data) as { line: string };
          setLines((ls) => [...ls, line]);
        }
      },
      ctrl.signal,
    )
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) setStreamError(e);
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLive(false);
      });
    return () => ctrl.abort();
  }, [path]);
  const d = deploy.data;
  return (
    <div className="deploy-log">
      <h3>
        Deploy <span className="mono">{deployId}</span> {d ? <Status value={d.status} /> : null} {live ? <span className="live">live</span> : null}
      </h3>
      {d?.error ? (
        <div className="error" role="alert">
          <strong>{d.error.code}</strong>: {d.error.message}
        </div>
      ) : null}
      {d && d.phases.length > 0 ? (
        <ol className="phases">
          {d.phases.map((p) => (
            <li key={p.name}>
              {p.name}: {formatTime(p.startedAt)}
              {p.endedAt ? ` → ${formatTime(p.endedAt)}` : ' …'}
            </li>
          ))}
        </ol>
      ) : null}
      <ErrorBox error={deploy.error ?? streamError} />
      <LogView lines={lines} label="Deploy log" empty={d && DEPLOY_ENDED.includes(d.status) ? 'No log lines.' : 'Waiting for log lines…'} />
    </div>
  );
}

function LogView({ lines, label, empty }: { lines: string[]; label: string; empty: string }) {
  const ref = useRef<HTMLPreElement>(null);
  const [follow, setFollow] = useState(true);
  useEffect(() => {
    if (follow && ref.current) ref.current.scrollTop = ref.current.scrollHeight;
  }, [lines, follow]);
  return (
    <>
      <label className="checkbox">
        <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Scroll with new lines
      </label>
      <pre ref={ref} className="log" aria-label={label} aria-live="off" tabIndex={0}>
        {lines.length === 0 ? <span className="muted">{empty}</span> : null}
        {lines.map((l, i) => (
          <div key={i}>
            <AnsiLine text={l} />
          </div>
        ))}
      </pre>
    </>
  );
}

function Releases({ appId }: { appId: string }) {
  const base = `/apps/${encodeURIComponent(appId)}`;
  const releases = useLoad((signal) => api.get<Page<Release>>(`${base}/releases?limit=50`, { signal }), [appId]);
  const rollback = useAction(async (release: number) => {
    const d = await api.post<Deploy>(`${base}/rollback`, { release });
    navigate(`${base}/deploys?deploy=${encodeURIComponent(d.id)}`);
  });
  return (
    <div className="card">
      <h2>Releases</h2>
      <ErrorBox error={releases.error ?? rollback.error} />
      {releases.data && releases.data.items.length === 0 ? <p className="muted">No releases yet.</p> : null}
      {releases.data && releases.data.items.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Releases">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Image</th>
                <th scope="col">Commit</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {releases.data.items.map((r) => (
                <tr key={r.number}>
                  <td>
                    {r.number} {r.current ? <span className="status status-running">current</span> : null}
                  </td>
                  <td className="mono">{r.image}</td>
                  <td className="mono">{r.commitSha?.slice(0, 12) ?? '—'}</td>
                  <td>{formatTime(r.createdAt)}</td>
                  <td>
                    {r.current ? null : (
                      <ConfirmButton label="Roll back" confirmLabel={`Roll back to release ${r.number}?`} onConfirm={() => void rollback.run(r.number)} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

function EnvEditor({ appId }: { appId: string }) {
  const path = `/apps/${encodeURIComponent(appId)}/env`;
  const env = useLoad((signal) => api.get<{ vars: EnvVar[] }>(path, { signal }), [appId]);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [secret, setSecret] = useState(false);
  const [notice, setNotice] = useState('');
  const save = useAction(async (body: { set?: Record<string, unknown>; unset?: string[] }) => {
    const res = await api.patch<{ vars: EnvVar[]; release: number | null; deploy: Deploy | null }>(path, body);
    setNotice(res.release ? `Saved as release ${res.release}${res.deploy ? `; rolling out (${res.deploy.status})` : ''}.` : 'Saved; used from the next deploy.');
    env.reload();
    return res;
  });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const done = await save.run({ set: { [key]: secret ? { value, secret: true } : value } });
    if (done) {
      setKey('');
      setValue('');
      setSecret(false);
    }
  };
  const keyError = fieldError(save.error, 'set', 'unset');
  return (
    <div className="card">
      <h2>Environment variables</h2>
      <p className="muted">Secret values are write-only: the API never returns them and the panel never shows them.</p>
      <ErrorBox error={env.error} />
      {env.data && env.data.vars.length === 0 ? <p className="muted">No variables.</p> : null}
      {env.data && env.data.vars.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Environment variables">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Value</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {env.data.vars.map((v) => (
                <tr key={v.key} data-env={v.key}>
                  <td className="mono">{v.key}</td>
                  <td className="mono">{v.secret ? <span className="secret">•••••• (secret, hidden)</span> : v.value}</td>
                  <td>
                    <button type="button" onClick={() => void save.run({ unset: [v.key] })} aria-label={`Remove ${v.key}`}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <form className="inline-form" onSubmit={(e) => void submit(e)} noValidate aria-label="Set variable">
        <Field label="Name" error={keyError}>
          {(p) => <input {...p} name="envKey" className="mono" value={key} onChange={(e) => setKey(e.target.value)} autoComplete="off" />}
        </Field>
        <Field label="Value">
          {(p) => <input {...p} name="envValue" className="mono" type={secret ? 'password' : 'text'} value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" />}
        </Field>
        <label className="checkbox">
          <input type="checkbox" name="envSecret" checked={secret} onChange={(e) => setSecret(e.target.checked)} /> Secret
        </label>
        <button type="submit" className="primary" disabled={save.pending}>
          Save variable
        </button>
      </form>
      <ErrorBox error={save.error} />
      {notice && !save.error ? (
        <p role="status" className="ok">
          {notice}
        </p>
      ) : null}
    </div>
  );
}

interface LogLine {
  instance: string;
  stream: string;
  at: string;
  text: string;
}

function RuntimeLogs({ appId }: { appId: string }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<unknown>();
  const [running, setRunning] = useState(true);
  const [state, setState] = useState('connecting');
  useEffect(() => {
    if (!running) return;
    const ctrl = new AbortController();
    setError(undefined);
    setState('connecting');
    streamEvents(
      `/apps/${encodeURIComponent(appId)}/logs?tail=100&follow=1`,
      (e) => {
        if (e.event === 'instances') setState('live');
        else if (e.event === 'log') {
          const line = JSON.parse(e.data) as LogLine;
          setLines((ls) => (ls.length >= 2000 ? [...ls.slice(-1500), line] : [...ls, line]));
        } else if (e.event === 'error') {
          const { instance, message } = JSON.parse(e.data) as { instance: string; message: string };
          setLines((ls) => [...ls, { instance, stream: 'error', at: new Date().toISOString(), text: `[log stream error] ${message}` }]);
        }
      },
      ctrl.signal,
    )
      .then(() => {
        if (!ctrl.signal.aborted) setState('ended');
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) {
          setError(e);
          setState('failed');
        }
      });
    return () => ctrl.abort();
  }, [appId, running]);
  const text = useMemo(() => lines.map((l) => `${l.instance.slice(-6)} ${l.stream === 'stderr' ? '!' : ' '} ${l.text}`), [lines]);
  return (
    <div className="card">
      <h2>Runtime logs</h2>
      <div className="row">
        <span className="muted" role="status">
          Stream: {running ? state : 'paused'}
        </span>
        <button type="button" onClick={() => setRunning(!running)}>
          {running ? 'Pause' : 'Resume'}
        </button>
        <button type="button" onClick={() => setLines([])}>
          Clear
        </button>
      </div>
      <ErrorBox error={error} />
      <LogView lines={text} label="Runtime log" empty="No log lines yet." />
    </div>
  );
}

function Metrics({ appId }: { appId: string }) {
  const [hours, setHours] = useState(1);
  const metrics = useLoad(
    (signal) => api.get<AppMetrics>(`/apps/${encodeURIComponent(appId)}/metrics?since=${encodeURIComponent(new Date(Date.now() - hours * 3600_000).toISOString())}`, { signal }),
    [appId, hours],
    30_000,
  );
  const chart = useMemo(() => {
    const pts = metrics.data?.points ?? [];
    return {
      times: toSeconds(pts.map((p) => p.at)),
      cpu: [{ label: 'CPU', values: pts.map((p) => p.cpuPercent), stroke: '#2f6fb0' }],
      mem: [{ label: 'Memory', values: pts.map((p) => p.memoryMb), stroke: '#b05a2f' }],
    };
  }, [metrics.data]);
  return (
    <div className="card">
      <h2>Metrics</h2>
      <Field label="Window">
        {(p) => (
          <select {...p} value={hours} onChange={(e) => setHours(Number(e.target.value))}>
            <option value={1}>Last hour</option>
            <option value={6}>Last 6 hours</option>
            <option value={24}>Last day</option>
            <option value={168}>Last 7 days</option>
          </select>
        )}
      </Field>
      <ErrorBox error={metrics.error} />
      <TimeChart title="CPU (sum over instances)" times={chart.times} series={chart.cpu} unit="%" />
      <TimeChart title="Memory (sum over instances)" times={chart.times} series={chart.mem} unit="MB" />
    </div>
  );
}

function Domains({ appId }: { appId: string }) {
  const base = `/apps/${encodeURIComponent(appId)}/domains`;
  const domains = useLoad((signal) => api.get<Page<Domain>>(base, { signal }), [appId], 10_000);
  const [hostname, setHostname] = useState('');
  const add = useAction(async () => {
    await api.post<Domain>(base, { hostname });
    setHostname('');
    domains.reload();
  });
  const act = useAction(async (what: 'verify' | 'delete', id: string) => {
    if (what === 'verify') await api.post(`${base}/${encodeURIComponent(id)}/verify`, {});
    else await api.del(`${base}/${encodeURIComponent(id)}`);
    domains.reload();
  });
  return (
    <div className="card">
      <h2>Custom domains</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
        noValidate
        aria-label="Add domain"
      >
        <Field label="Hostname" error={fieldError(add.error, 'hostname')} hint="For example www.example.com">
          {(p) => <input {...p} name="hostname" value={hostname} onChange={(e) => setHostname(e.target.value)} autoComplete="off" />}
        </Field>
        <button type="submit" className="primary" disabled={add.pending}>
          Add domain
        </button>
      </form>
      <ErrorBox error={add.error ?? act.error ?? domains.error} />
      {domains.data?.items.map((d) => (
        <div key={d.id} className="domain" data-domain={d.hostname}>
          <h3>
            {d.hostname} <Status value={d.status} />{' '}
            {d.tls ? (
              <span>
                certificate <Status value={d.tls.status} />
                {d.tls.notAfter ? ` until ${formatTime(d.tls.notAfter)}` : ''}
              </span>
            ) : null}
          </h3>
          {d.tls?.error ? <p className="error">{d.tls.error}</p> : null}
          {d.status === 'pending-verification' ? (
            <>
              <p>Publish this DNS TXT record, then verify:</p>
              <dl className="kv">
                <dt>Type</dt>
                <dd className="mono">TXT</dd>
                <dt>Name</dt>
                <dd className="mono">
                  {d.verification.name} <CopyButton text={d.verification.name} />
                </dd>
                <dt>Value</dt>
                <dd className="mono">
                  {d.verification.value} <CopyButton text={d.verification.value} />
                </dd>
              </dl>
            </>
          ) : (
            <p className="muted">Verified {formatTime(d.verifiedAt)}. Point its CNAME (or A record) at the app&apos;s hostname.</p>
          )}
          <div className="row">
            {d.status === 'pending-verification' ? (
              <button type="button" onClick={() => void act.run('verify', d.id)} disabled={act.pending}>
                Verify
              </button>
            ) : null}
            <ConfirmButton label="Remove" confirmLabel={`Remove ${d.hostname}?`} onConfirm={() => void act.run('delete', d.id)} />
          </div>
        </div>
      ))}
    </div>
  );
}

function WebhookPanel({ appId }: { appId: string }) {
  const path = `/apps/${encodeURIComponent(appId)}/webhook`;
  const hook = useLoad((signal) => api.get<Webhook>(path, { signal }), [appId]);
  const [secret, setSecret] = useState<string | null>(null);
  const rotate = useAction(async () => {
    const res = await api.post<Webhook>(`${path}/rotate`, {});
    setSecret(res.secret ?? null);
    hook.reload();
  });
  const h = hook.data;
  return (
    <div className="card">
      <h2>Push webhook</h2>
      <p className="muted">Add one of these URLs to your git host so a push to the app&apos;s branch deploys it.</p>
      <ErrorBox error={hook.error ?? rotate.error} />
      {h ? (
        <dl className="kv">
          {Object.entries(h.urls).map(([provider, url]) => (
            <div key={provider} className="kv-row">
              <dt>{provider}</dt>
              <dd className="mono">
                {url} <CopyButton text={url} />
              </dd>
            </div>
          ))}
          <div className="kv-row">
            <dt>Secret</dt>
            <dd className="mono">{h.secretHint ?? '—'}</dd>
          </div>
        </dl>
      ) : null}
      {secret ? (
        <div className="notice" role="status">
          <p>New secret (shown once; copy it into your git host now):</p>
          <p className="mono secret-once">
            {secret} <CopyButton text={secret} />
          </p>
        </div>
      ) : null}
      {h ? <ConfirmButton label="Rotate secret" confirmLabel="The old secret stops working at once. Rotate?" onConfirm={() => void rotate.run()} /> : null}
    </div>
  );
}

