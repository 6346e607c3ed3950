import { useMemo, useState, type FormEvent } from 'react';
import { api, type Page } from '../api';
import { TimeChart, toSeconds } from '../chart';
import { Link, navigate } from '../router';
import type { NodeMetric, NodeToken, NodeView, Region } from '../types';
import { ago, CapacityBar, ConfirmButton, CopyButton, cpu, ErrorBox, Field, fieldError, formatTime, Loading, mb, Status, useAction, useLoad } from '../ui';

function NodeTokenForm() {
  const regions = useLoad((signal) => api.get<Page<Region>>('/regions?limit=200', { signal }), []);
  const [region, setRegion] = useState('');
  const [labels, setLabels] = useState('');
  const [ttl, setTtl] = useState('3600');
  const [token, setToken] = useState<NodeToken | null>(null);
  const chosen = region || regions.data?.items[0]?.id || '';
  const create = useAction(async () => {
    const ttlSeconds = Number(ttl);
    const body = {
      region: chosen,
      ...(labels.trim() ? { labels: labels.split(',').map((l) => l.trim()).filter(Boolean) } : {}),
      ...(ttl.trim() ? { ttlSeconds: Number.isFinite(ttlSeconds) ? ttlSeconds : ttl } : {}),
    };
    setToken(await api.post<NodeToken>('/admin/node-tokens', body));
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run();
  };
  return (
    <div className="card">
      <h2>Add a node</h2>
      <p className="muted">A registration token is single use. Run the install command on the new server as root.</p>
      <form className="inline-form" onSubmit={submit} noValidate aria-label="Create node token">
        <Field label="Region" error={fieldError(create.error, 'region')}>
          {(p) => (
            <select {...p} name="region" value={chosen} onChange={(e) => setRegion(e.target.value)}>
              {regions.data?.items.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name} ({r.id})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Labels" error={fieldError(create.error, 'labels')} hint="Comma-separated, optional.">
          {(p) => <input {...p} name="labels" value={labels} onChange={(e) => setLabels(e.target.value)} />}
        </Field>
        <Field label="Valid for (seconds)" error={fieldError(create.error, 'ttlSeconds')}>
          {(p) => <input {...p} name="ttlSeconds" inputMode="numeric" value={ttl} onChange={(e) => setTtl(e.target.value)} />}
        </Field>
        <button type="submit" className="primary" disabled={create.pending}>
          Create token
        </button>
      </form>
      <ErrorBox error={create.error ?? regions.error} />
      {regions.data?.items.length === 0 ? (
        <p>
          No region yet: <Link to="/admin/catalog">create one</Link> first.
        </p>
      ) : null}
      {token ? (
        <div className="notice" role="status">
          <p>
            Token (expires {formatTime(token.expiresAt)}), shown once. Install command:
          </p>
          <pre className="command" data-testid="install-command">
            {token.installCommand}
          </pre>
          <CopyButton text={token.installCommand} label="Copy command" />
        </div>
      ) : null}
    </div>
  );
}

export function NodesPage() {
  const [region, setRegion] = useState('');
  const nodes = useLoad((signal) => api.get<Page<NodeView>>(`/admin/nodes?limit=200${region ? `&region=${encodeURIComponent(region)}` : ''}`, { signal }), [region], 5000);
  const regions = useMemo(() => [...new Set(nodes.data?.items.map((n) => n.region) ?? [])].sort(), [nodes.data]);
  const byRegion = useMemo(() => {
    const m = new Map<string, NodeView[]>();
    for (const n of nodes.data?.items ?? []) m.set(n.region, [...(m.get(n.region) ?? []), n]);
    return [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [nodes.data]);
  return (
    <section>
      <h1>Nodes</h1>
      <ErrorBox error={nodes.error} />
      {nodes.error ? null : (
        <>
          <NodeTokenForm />
          {regions.length > 1 || region ? (
            <Field label="Region filter">
              {(p) => (
                <select {...p} value={region} onChange={(e) => setRegion(e.target.value)}>
                  <option value="">All regions</option>
                  {regions.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          {nodes.loading ? <Loading what="nodes" /> : null}
          {nodes.data && nodes.data.items.length === 0 ? <p>No nodes have registered yet.</p> : null}
          {byRegion.map(([r, list]) => (
            <div key={r} className="card">
              <h2>Region {r}</h2>
              <ul className="node-grid" aria-label={`Nodes in ${r}`}>
                {list.map((n) => (
                  <li key={n.id} className="node" data-node={n.name}>
                    <h3>
                      <Link to={`/admin/nodes/${encodeURIComponent(n.id)}`}>{n.name}</Link> <Status value={n.status} />
                      {n.degraded ? <span className="status status-failed">degraded</span> : null}
                    </h3>
                    <p className="muted small">
                      heartbeat {ago(n.lastHeartbeatAt)} · {n.containerCount} containers · agent {n.agentVersion ?? '?'}
                      {n.labels.length ? ` · ${n.labels.join(', ')}` : ''}
                    </p>
                    <CapacityBar label="CPU" total={n.capacity.cpuMillicores} allocated={n.allocated.cpuMillicores} used={(n.usage.cpuPercent / 100) * n.capacity.cpuMillicores} format={cpu} />
                    <CapacityBar label="Memory" total={n.capacity.memoryMb} allocated={n.allocated.memoryMb} used={n.usage.memoryMb} format={mb} />
                    <CapacityBar label="Disk" total={n.capacity.diskMb} allocated={n.allocated.diskMb} used={n.usage.diskMb} format={mb} />
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </>
      )}
    </section>
  );
}

export function NodeActions({ node, onChange }: { node: NodeView; onChange: () => void }) {
  const act = useAction(async (what: 'active' | 'draining' | 'disabled' | 'delete') => {
    if (what === 'delete') {
      await api.del(`/admin/nodes/${encodeURIComponent(node.id)}`);
      navigate('/admin/nodes');
      return;
    }
    await api.patch(`/admin/nodes/${encodeURIComponent(node.id)}`, { status: what });
    onChange();
  });
  return (
    <div className="row">
      {node.status === 'draining' || node.status === 'disabled' ? (
        <button type="button" onClick={() => void act.run('active')} disabled={act.pending}>
          Enable
        </button>
      ) : null}
      {node.status !== 'draining' ? (
        <ConfirmButton label="Drain" confirmLabel={`Move every app off ${node.name}?`} onConfirm={() => void act.run('draining')} />
      ) : null}
      {node.status !== 'disabled' ? (
        <ConfirmButton label="Disable" confirmLabel={`Stop placing apps on ${node.name}?`} onConfirm={() => void act.run('disabled')} />
      ) : null}
      <ConfirmButton label="Remove" confirmLabel={`Remove ${node.name} and revoke its credential?`} onConfirm={() => void act.run('delete')} />
      <ErrorBox error={act.error} />
    </div>
  );
}

export function NodePage({ id }: { id: string }) {
  const path = `/admin/nodes/${encodeURIComponent(id)}`;
  const node = useLoad((signal) => api.get<NodeView>(path, { signal }), [id], 5000);
  const metrics = useLoad(
    (signal) => api.get<Page<NodeMetric>>(`${path}/metrics?since=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}`, { signal }),
    [id],
    30_000,
  );
  const chart = useMemo(() => {
    const pts = [...(metrics.data?.items ?? [])].sort((a, b) => a.at.localeCompare(b.at));
    return {
      times: toSeconds(pts.map((p) => p.at)),
      cpu: [{ label: 'CPU', values: pts.map((p) => p.cpuPercent), stroke: '#2f6fb0' }],
      mem: [
        { label: 'Memory', values: pts.map((p) => p.memoryUsedMb), stroke: '#b05a2f' },
        { label: 'Disk', values: pts.map((p) => p.diskUsedMb), stroke: '#5a8a2f' },
      ],
    };
  }, [metrics.data]);
  if (node.error && !node.data) return <ErrorBox error={node.error} />;
  if (!node.data) return <Loading what="the node" />;
  const n = node.data;
  return (
    <section>
      <p>
        <Link to="/admin/nodes">← Nodes</Link>
      </p>
      <h1>
        {n.name} <Status value={n.status} />
      </h1>
      <NodeActions node={n} onChange={node.reload} />
      <div className="card">
        <dl className="kv">
          <dt>Id</dt>
          <dd className="mono">{n.id}</dd>
          <dt>Region</dt>
          <dd>{n.region}</dd>
          <dt>Liveness</dt>
          <dd>
            <Status value={n.liveness} />
          </dd>
          <dt>Last heartbeat</dt>
          <dd>
            {formatTime(n.lastHeartbeatAt)} ({ago(n.lastHeartbeatAt)})
          </dd>
          <dt>Agent</dt>
          <dd>{n.agentVersion ?? '—'}</dd>
          <dt>Labels</dt>
          <dd>{n.labels.join(', ') || '—'}</dd>
          <dt>Containers</dt>
          <dd>{n.containerCount}</dd>
          <dt>Registered</dt>
          <dd>{formatTime(n.createdAt)}</dd>
        </dl>
        <CapacityBar label="CPU" total={n.capacity.cpuMillicores} allocated={n.allocated.cpuMillicores} used={(n.usage.cpuPercent / 100) * n.capacity.cpuMillicores} format={cpu} />
        <CapacityBar label="Memory" total={n.capacity.memoryMb} allocated={n.allocated.memoryMb} used={n.usage.memoryMb} format={mb} />
        <CapacityBar label="Disk" total={n.capacity.diskMb} allocated={n.allocated.diskMb} used={n.usage.diskMb} format={mb} />
      </div>
      <div className="card">
        <h2>Metrics (last hour)</h2>
        <ErrorBox error={metrics.error} />
        <TimeChart title="CPU" times={chart.times} series={chart.cpu} unit="%" />
        <TimeChart title="Memory and disk used" times={chart.times} series={chart.mem} unit="MB" />
      </div>
      <details className="card">
        <summary>Host facts</summary>
        <pre className="log">{JSON.stringify(n.facts, null, 2)}</pre>
      </details>
    </section>
  );
}
