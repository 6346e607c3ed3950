// An app's git source as its owner manages it: the repository and branch, and how a private
// repository is reached — an https access token (write-only: the API names it, never shows it) or,
// for ssh URLs, the app's deploy key whose public half the owner adds to the git host.
import { useState, type FormEvent } from 'react';
import { api } from '../api';
import type { App, DeployKey } from '../types';
import { ConfirmButton, CopyButton, ErrorBox, Field, fieldError, formatTime, Loading, useAction, useLoad } from '../ui';

type GitSource = Extract<App['source'], { type: 'git' }>;

const isHttps = (url: string) => url.toLowerCase().startsWith('https://');

export function SourcePanel({ app, onChange }: { app: App; onChange: () => void }) {
  if (app.source.type !== 'git') {
    return (
      <div className="card">
        <h2>Source</h2>
        <p>
          This app deploys the image <span className="mono">{app.source.image}</span>.
        </p>
      </div>
    );
  }
  return (
    <>
      <RepositoryForm app={app} source={app.source} onChange={onChange} />
      {isHttps(app.source.url) ? <TokenForm app={app} source={app.source} onChange={onChange} /> : <DeployKeyPanel appId={app.id} />}
    </>
  );
}

function RepositoryForm({ app, source, onChange }: { app: App; source: GitSource; onChange: () => void }) {
  const [url, setUrl] = useState(source.url);
  const [branch, setBranch] = useState(source.branch ?? 'main');
  const [notice, setNotice] = useState('');
  const save = useAction(async () => {
    setNotice('');
    // `auth` left out: the stored token stays while the URL does (the API drops it on a new URL).
    await api.patch(`/apps/${encodeURIComponent(app.id)}`, { source: { type: 'git', url, branch } });
    setNotice('Saved. The next deploy builds from here.');
    onChange();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.run();
  };
  const err = save.error;
  return (
    <form className="card" onSubmit={submit} noValidate aria-label="Repository">
      <h2>Repository</h2>
      <Field label="Repository URL" error={fieldError(err, 'source.url', 'source')} hint="https://…, ssh://… or git@host:path. Moving to another URL drops a stored access token.">
        {(p) => <input {...p} name="url" value={url} onChange={(e) => setUrl(e.target.value)} autoComplete="off" />}
      </Field>
      <Field label="Branch" error={fieldError(err, 'source.branch')}>
        {(p) => <input {...p} name="branch" value={branch} onChange={(e) => setBranch(e.target.value)} autoComplete="off" />}
      </Field>
      <ErrorBox error={err} />
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={save.pending}>
        Save repository
      </button>
    </form>
  );
}

function TokenForm({ app, source, onChange }: { app: App; source: GitSource; onChange: () => void }) {
  const [username, setUsername] = useState('');
  const [token, setToken] = useState('');
  const [notice, setNotice] = useState('');
  const patchAuth = (auth: { type: 'token'; token: string; username?: string } | null) =>
    api.patch(`/apps/${encodeURIComponent(app.id)}`, { source: { type: 'git', url: source.url, branch: source.branch, auth } });
  const save = useAction(async () => {
    setNotice('');
    await patchAuth({ type: 'token', token, ...(username.trim() ? { username: username.trim() } : {}) });
    setToken('');
    setNotice('Token saved. It is sealed at rest and never shown again.');
    onChange();
  });
  const remove = useAction(async () => {
    setNotice('');
    await patchAuth(null);
    setNotice('Token removed.');
    onChange();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.run();
  };
  const stored = source.auth?.type === 'token' ? source.auth : null;
  const err = save.error;
  return (
    <form className="card" onSubmit={submit} noValidate aria-label="Credentials for a private repository">
      <h2>Access token</h2>
      <p data-testid="token-state">
        {stored ? (
          <>
            A token is stored and sent as user <span className="mono">{stored.username}</span>.
          </>
        ) : (
          'No token: the repository is cloned without credentials (public repositories).'
        )}
      </p>
      <p className="muted">For a private repository, create a read-only token at your git host (GitHub: a fine-grained token with Contents read; GitLab: a deploy token with read_repository).</p>
      <Field label="Token username" error={fieldError(err, 'source.auth.username')} hint="Optional; x-access-token when left empty (GitHub, Gitea). GitLab deploy tokens need their own username.">
        {(p) => <input {...p} name="tokenUsername" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />}
      </Field>
      <Field label="Access token" error={fieldError(err, 'source.auth.token', 'source.auth')}>
        {(p) => <input {...p} name="token" type="password" value={token} onChange={(e) => setToken(e.target.value)} autoComplete="new-password" />}
      </Field>
      <ErrorBox error={err ?? remove.error} />
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <div className="row">
        <button type="submit" className="primary" disabled={save.pending}>
          {stored ? 'Replace token' : 'Save token'}
        </button>{' '}
        {stored ? <ConfirmButton label="Remove token" confirmLabel="Builds will clone without credentials. Remove the token?" onConfirm={() => void remove.run()} disabled={remove.pending} /> : null}
      </div>
    </form>
  );
}

function DeployKeyPanel({ appId }: { appId: string }) {
  const path = `/apps/${encodeURIComponent(appId)}/deploy-key`;
  // The first read makes the key pair; the private half never leaves the control plane.
  const key = useLoad((signal) => api.get<DeployKey>(path, { signal }), [appId]);
  const [notice, setNotice] = useState('');
  const rotate = useAction(async () => {
    setNotice('');
    await api.post<DeployKey>(`${path}/rotate`, {});
    setNotice('New key made. Replace the old one at your git host before the next deploy.');
    key.reload();
  });
  const forget = useAction(async () => {
    setNotice('');
    await api.del(`${path}/known-hosts`);
    setNotice('Host keys forgotten. The next build trusts the key the host shows then.');
    key.reload();
  });
  const k = key.data;
  return (
    <div className="card">
      <h2>Deploy key</h2>
      <p className="muted">Add this public key to your git host as a read-only deploy key (GitHub: Settings → Deploy keys; GitLab: Settings → Repository → Deploy keys). Builds clone with it over ssh.</p>
      <ErrorBox error={key.error ?? rotate.error ?? forget.error} />
      {!k && !key.error ? <Loading what="the deploy key" /> : null}
      {k ? (
        <dl className="kv">
          <div className="kv-row">
            <dt>Public key</dt>
            <dd>
              <code className="mono" data-testid="deploy-key">
                {k.publicKey}
              </code>{' '}
              <CopyButton text={k.publicKey} />
            </dd>
          </div>
          <div className="kv-row">
            <dt>Fingerprint</dt>
            <dd className="mono" data-testid="deploy-key-fingerprint">
              {k.fingerprint}
            </dd>
          </div>
          <div className="kv-row">
            <dt>Created</dt>
            <dd>{formatTime(k.createdAt)}</dd>
          </div>
          <div className="kv-row">
            <dt>Trusted host keys</dt>
            <dd data-testid="known-hosts">
              {k.knownHosts.length === 0 ? (
                <span className="muted">none yet: the first build trusts the key the host shows</span>
              ) : (
                <ul className="plain">
                  {k.knownHosts.map((line) => (
                    <li key={line} className="mono">
                      {line}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </div>
        </dl>
      ) : null}
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      {k ? (
        <div className="row">
          <ConfirmButton label="Rotate key" confirmLabel="Builds stop using the old key at once. Rotate?" onConfirm={() => void rotate.run()} disabled={rotate.pending} />{' '}
          {k.knownHosts.length > 0 ? (
            <ConfirmButton label="Forget host keys" confirmLabel="The next build trusts whatever key the host shows. Forget?" onConfirm={() => void forget.run()} disabled={forget.pending} />
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
