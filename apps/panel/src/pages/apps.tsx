import { useEffect, useState, type FormEvent } from 'react';
import { api, type Page } from '../api';
import { Link, navigate } from '../router';
import type { App, Plan, Project, Region } from '../types';
import { ErrorBox, Field, fieldError, Loading, money, Status, useAction, useLoad, cpu, mb } from '../ui';

function query(name: string): string | null {
  return new URLSearchParams(location.search).get(name);
}

export function AppsPage() {
  const projectId = query('project');
  const apps = useLoad(
    (signal) => api.get<Page<App>>(`/apps?limit=200${projectId ? `&projectId=${encodeURIComponent(projectId)}` : ''}`, { signal }),
    [projectId],
    5000,
  );
  const projects = useLoad((signal) => api.get<Page<Project>>('/projects?limit=200', { signal }), []);
  const projectName = (id: string) => projects.data?.items.find((p) => p.id === id)?.name ?? id;
  return (
    <section>
      <div className="page-head">
        <h1>Apps{projectId ? ` in ${projectName(projectId)}` : ''}</h1>
        <Link to={projectId ? `/apps/new?project=${encodeURIComponent(projectId)}` : '/apps/new'} className="button primary">
          New app
        </Link>
      </div>
      <ErrorBox error={apps.error} />
      {apps.loading ? <Loading what="apps" /> : null}
      {apps.data && apps.data.items.length === 0 ? (
        <p>
          No apps yet. {projects.data?.items.length === 0 ? <Link to="/projects">Create a project first</Link> : <Link to="/apps/new">Create one</Link>}.
        </p>
      ) : null}
      {apps.data && apps.data.items.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Apps">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Project</th>
                <th scope="col">Region</th>
                <th scope="col">Hostname</th>
                <th scope="col">Replicas</th>
              </tr>
            </thead>
            <tbody>
              {apps.data.items.map((a) => (
                <tr key={a.id} data-app={a.name}>
                  <td>
                    <Link to={`/apps/${encodeURIComponent(a.id)}`}>{a.name}</Link>
                  </td>
                  <td>
                    <Status value={a.status} />
                  </td>
                  <td>{projectName(a.projectId)}</td>
                  <td>{a.region}</td>
                  <td className="mono">{a.hostname}</td>
                  <td>{a.replicas}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

export function planLabel(p: Plan): string {
  return `${p.name} — ${cpu(p.cpuMillicores)}, ${mb(p.memoryMb)} RAM, ${money(p.hourlyPrice, p.currency)}/h`;
}

const isHttpsUrl = (url: string) => url.trim().toLowerCase().startsWith('https://');

/** The create body's git source; a token only for https URLs (ssh ones use the app's deploy key). */
function gitSourceBody(url: string, branch: string, token: string, username: string) {
  const auth = token && isHttpsUrl(url) ? { auth: { type: 'token', token, ...(username.trim() ? { username: username.trim() } : {}) } } : {};
  return { type: 'git', url, ...(branch ? { branch } : {}), ...auth };
}

export function NewAppPage() {
  const projects = useLoad((signal) => api.get<Page<Project>>('/projects?limit=200', { signal }), []);
  const regions = useLoad((signal) => api.get<Page<Region>>('/regions?limit=200', { signal }), []);
  const plans = useLoad((signal) => api.get<Page<Plan>>('/plans?limit=200', { signal }), []);
  const [projectId, setProjectId] = useState(query('project') ?? '');
  const [name, setName] = useState('');
  const [sourceType, setSourceType] = useState<'image' | 'git'>('image');
  const [image, setImage] = useState('');
  const [url, setUrl] = useState('');
  const [branch, setBranch] = useState('main');
  const [tokenUsername, setTokenUsername] = useState('');
  const [token, setToken] = useState('');
  const [region, setRegion] = useState('');
  const [planId, setPlanId] = useState('');
  const [port, setPort] = useState('8080');
  const [replicas, setReplicas] = useState('1');

  // Default the selects to the first choice once the lists arrive.
  useEffect(() => {
    if (!projectId && projects.data?.items[0]) setProjectId(projects.data.items[0].id);
  }, [projects.data, projectId]);
  useEffect(() => {
    if (!region && regions.data?.items[0]) setRegion(regions.data.items[0].id);
  }, [regions.data, region]);
  useEffect(() => {
    if (!planId && plans.data?.items[0]) setPlanId(plans.data.items[0].id);
  }, [plans.data, planId]);

  const num = (v: string): number | string | undefined => (v.trim() === '' ? undefined : Number.isFinite(Number(v)) ? Number(v) : v);
  const create = useAction(async () => {
    const body = {
      projectId,
      name,
      region,
      planId,
      source: sourceType === 'image' ? { type: 'image', image } : gitSourceBody(url, branch, token, tokenUsername),
      port: num(port),
      replicas: num(replicas),
    };
    const app = await api.post<App>('/apps', body);
    navigate(`/apps/${encodeURIComponent(app.id)}`);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run();
  };
  const err = create.error;
  const listError = projects.error ?? regions.error ?? plans.error;
  return (
    <section>
      <h1>New app</h1>
      <ErrorBox error={listError} />
      {projects.data?.items.length === 0 ? (
        <p>
          You have no project yet. <Link to="/projects">Create a project</Link> first.
        </p>
      ) : null}
      <form className="card" onSubmit={submit} noValidate aria-label="New app">
        <Field label="Project" error={fieldError(err, 'projectId')}>
          {(p) => (
            <select {...p} name="projectId" value={projectId} onChange={(e) => setProjectId(e.target.value)}>
              {projects.data?.items.map((pr) => (
                <option key={pr.id} value={pr.id}>
                  {pr.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="App name" error={fieldError(err, 'name')} hint="Lowercase letters, digits and dashes; 2–30 characters, starting with a letter.">
          {(p) => <input {...p} name="name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />}
        </Field>
        <fieldset>
          <legend>Source</legend>
          <label className="radio">
            <input type="radio" name="sourceType" value="image" checked={sourceType === 'image'} onChange={() => setSourceType('image')} /> Container image
          </label>
          <label className="radio">
            <input type="radio" name="sourceType" value="git" checked={sourceType === 'git'} onChange={() => setSourceType('git')} /> Git repository
          </label>
          {sourceType === 'image' ? (
            <Field label="Image" error={fieldError(err, 'source.image', 'source')} hint="For example nginx:1.27 or registry.example.com/team/app:v3">
              {(p) => <input {...p} name="image" value={image} onChange={(e) => setImage(e.target.value)} autoComplete="off" />}
            </Field>
          ) : (
            <>
              <Field label="Repository URL" error={fieldError(err, 'source.url', 'source')} hint="https://…, ssh://… or git@host:path">
                {(p) => <input {...p} name="url" value={url} onChange={(e) => setUrl(e.target.value)} autoComplete="off" />}
              </Field>
              <Field label="Branch" error={fieldError(err, 'source.branch')}>
                {(p) => <input {...p} name="branch" value={branch} onChange={(e) => setBranch(e.target.value)} autoComplete="off" />}
              </Field>
              {isHttpsUrl(url) ? (
                <>
                  <Field label="Access token" error={fieldError(err, 'source.auth.token', 'source.auth')} hint="Only for a private repository: a read-only token from your git host. Sealed at rest, never shown again.">
                    {(p) => <input {...p} name="token" type="password" value={token} onChange={(e) => setToken(e.target.value)} autoComplete="new-password" />}
                  </Field>
                  {token ? (
                    <Field label="Token username" error={fieldError(err, 'source.auth.username')} hint="Optional; x-access-token when left empty.">
                      {(p) => <input {...p} name="tokenUsername" value={tokenUsername} onChange={(e) => setTokenUsername(e.target.value)} autoComplete="off" />}
                    </Field>
                  ) : null}
                </>
              ) : url.trim() ? (
                <p className="hint" data-testid="deploy-key-hint">
                  A private repository over ssh: Karvon makes a deploy key for the app. Add its public half to your git host from the app&apos;s Source tab before deploying.
                </p>
              ) : null}
            </>
          )}
        </fieldset>
        <div className="grid2">
          <Field label="Region" error={fieldError(err, 'region')}>
            {(p) => (
              <select {...p} name="region" value={region} onChange={(e) => setRegion(e.target.value)}>
                {regions.data?.items.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name} ({r.id})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Plan" error={fieldError(err, 'planId')}>
            {(p) => (
              <select {...p} name="planId" value={planId} onChange={(e) => setPlanId(e.target.value)}>
                {plans.data?.items.map((pl) => (
                  <option key={pl.id} value={pl.id}>
                    {planLabel(pl)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Port" error={fieldError(err, 'port')} hint="The port your app listens on.">
            {(p) => <input {...p} name="port" inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} />}
          </Field>
          <Field label="Replicas" error={fieldError(err, 'replicas')}>
            {(p) => <input {...p} name="replicas" inputMode="numeric" value={replicas} onChange={(e) => setReplicas(e.target.value)} />}
          </Field>
        </div>
        <ErrorBox error={err} />
        <button type="submit" className="primary" disabled={create.pending}>
          Create app
        </button>
      </form>
    </section>
  );
}
