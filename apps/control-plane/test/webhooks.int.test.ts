// Git push webhooks against a real control plane and PostgreSQL, without nodes: each provider's
// signed push queues a deploy of exactly the pushed commit; forged, unsigned, empty-secret,
// replayed, oversized, other-branch, non-push and unknown-hook deliveries are refused or ignored
// with nothing queued; rotating the secret retires the old one; another tenant sees 404. What the
// deploy engine then does with the git deploy (clone, build) is not asserted here.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiErrorBody } from '../../../test/api-client';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { eventually } from '../../../test/eventually';
import { signatureHeader } from '../src/webhooks/signature';
import type { HookProvider } from '../src/webhooks/hook-secret';

const REGION = 'hooks-1';
const PROVIDERS: HookProvider[] = ['github', 'gitlab', 'gitea', 'generic'];

interface HookView {
  url: string;
  urls: Record<HookProvider, string>;
  secretHint: string;
}
interface Rotated {
  url: string;
  urls: Record<HookProvider, string>;
  secret: string;
}
interface Hooked {
  appId: string;
  urls: Record<HookProvider, string>;
  secret: string;
}

let cp: TestControlPlane;
let alice: Customer;
let bob: Customer;
let project: string;
let hooked: Hooked;

const sha = () => randomBytes(20).toString('hex');
const deliveryId = () => `d-${randomBytes(8).toString('hex')}`;

/** Each provider's push as the host sends it (headers without the signature, and the body). */
function pushOf(provider: HookProvider, after: string, opts: { ref?: string; delivery?: string; event?: string } = {}): { headers: Record<string, string>; body: string } {
  const ref = opts.ref ?? 'refs/heads/main';
  const delivery = opts.delivery ?? deliveryId();
  switch (provider) {
    case 'github':
      return { headers: { 'x-github-event': opts.event ?? 'push', 'x-github-delivery': delivery }, body: JSON.stringify({ ref, before: '0'.repeat(40), after, repository: { clone_url: 'https://github.com/o/r.git' } }) };
    case 'gitlab':
      return { headers: { 'x-gitlab-event': opts.event ?? 'Push Hook', 'idempotency-key': delivery }, body: JSON.stringify({ object_kind: 'push', ref, after, repository: { git_http_url: 'https://gitlab.com/o/r.git' } }) };
    case 'gitea':
      return { headers: { 'x-gitea-event': opts.event ?? 'push', 'x-gitea-delivery': delivery }, body: JSON.stringify({ ref, after, repository: { clone_url: 'https://git.example/o/r.git' } }) };
    case 'generic':
      return { headers: { 'x-karvon-delivery': delivery }, body: JSON.stringify({ ref, after }) };
  }
}

/** POSTs to the hook URL's path on this control plane (the public URL is not where tests listen). */
async function send(url: string, body: string | Buffer, headers: Record<string, string>) {
  const started = performance.now();
  const res = await fetch(cp.url + new URL(url).pathname, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown>, ms: performance.now() - started };
}

function signed(provider: HookProvider, secret: string, push: { headers: Record<string, string>; body: string }): Record<string, string> {
  const [name, value] = signatureHeader(provider, secret, push.body);
  return { ...push.headers, [name]: value };
}

async function deliver(provider: HookProvider, target: { urls: Record<HookProvider, string>; secret: string }, after: string, opts: Parameters<typeof pushOf>[2] = {}) {
  const push = pushOf(provider, after, opts);
  return send(target.urls[provider], push.body, signed(provider, target.secret, push));
}

const deploysWithSha = async (commitSha: string) => cp.db('deploys').where({ commit_sha: commitSha }).select<Array<{ id: string; app_id: string; status: string; ref: string | null; kind: string; created_by: string | null }>>('*');

async function createGitApp(c: Customer, branch = 'main') {
  const res = await c.api.post<{ id: string }>('/api/v1/apps', { projectId: project, name: `h${randomBytes(4).toString('hex')}`, region: REGION, planId: 'small', source: { type: 'git', url: 'https://github.com/o/r.git', branch } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function hookFor(c: Customer, appId: string): Promise<Hooked> {
  const got = await c.api.get<HookView>(`/api/v1/apps/${appId}/webhook`);
  expect(got.status, JSON.stringify(got.body)).toBe(200);
  const rotated = await c.api.post<Rotated>(`/api/v1/apps/${appId}/webhook/rotate`);
  expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
  return { appId, urls: rotated.body.urls, secret: rotated.body.secret };
}

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_MUTATIONS_PER_MINUTE: '100000', KARVON_MUTATION_BURST: '100000' });
  const admin = await cp.adminClient();
  await ensureCatalog(admin, REGION);
  alice = await registerCustomer(cp.api, 'alice', { admin, tier: 'business' });
  bob = await registerCustomer(cp.api, 'bob', { admin, tier: 'business' });
  const p = await alice.api.post<{ id: string }>('/api/v1/projects', { name: 'hooks' });
  expect(p.status).toBe(201);
  project = p.body.id;
  hooked = await hookFor(alice, await createGitApp(alice));
});

afterAll(async () => {
  await cp?.stop();
});

describe('the app’s hook', () => {
  it('is made on first read, stable after, and its secret only shown by rotate', async () => {
    const appId = await createGitApp(alice);
    const first = await alice.api.get<HookView>(`/api/v1/apps/${appId}/webhook`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.body.url).toMatch(/^http:\/\/[^/]+\/hooks\/generic\/whk_[0-9a-z]{20}$/);
    const id = first.body.url.split('/').pop()!;
    expect(first.body.urls).toEqual(Object.fromEntries(PROVIDERS.map((p) => [p, first.body.url.replace('/generic/', `/${p}/`)])));
    expect(first.body.secretHint).toMatch(/^[A-Za-z0-9_-]{4}$/);
    expect(Object.keys(first.body).sort()).toEqual(['secretHint', 'url', 'urls']);
    const again = await alice.api.get<HookView>(`/api/v1/apps/${appId}/webhook`);
    expect(again.body).toEqual(first.body);

    const rotated = await alice.api.post<Rotated>(`/api/v1/apps/${appId}/webhook/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.body.url).toBe(first.body.url); // same URL: only the git host's secret field changes
    const after = await alice.api.get<HookView>(`/api/v1/apps/${appId}/webhook`);
    expect(after.body.secretHint).toBe(rotated.body.secret.slice(-4));
    expect(JSON.stringify(after.body)).not.toContain(rotated.body.secret);

    // Stored sealed, bound to the app: the column is not the secret.
    const row = await cp.db('apps').where({ id: appId }).first<{ webhook_id: string; webhook_secret_ciphertext: string }>();
    expect(row.webhook_id).toBe(id);
    expect(row.webhook_secret_ciphertext).toMatch(/^v1\./);
    expect(row.webhook_secret_ciphertext).not.toContain(rotated.body.secret);

    await eventually(async () => {
      const audit = await cp.db('audit_log').where({ target: `app:${appId}` }).whereLike('action', 'app.webhook.%').orderBy('id').pluck<string[]>('action');
      expect(audit).toEqual(['app.webhook.create', 'app.webhook.rotate']);
    });
  });

  it('is 404 for another tenant, on read and on rotate', async () => {
    const read = await bob.api.get<ApiErrorBody>(`/api/v1/apps/${hooked.appId}/webhook`);
    expect(read.status).toBe(404);
    expect(read.body.error.code).toBe('NOT_FOUND');
    const rotate = await bob.api.post<ApiErrorBody>(`/api/v1/apps/${hooked.appId}/webhook/rotate`);
    expect(rotate.status).toBe(404);
    // and bob's attempt changed nothing: alice's secret still verifies
    expect((await deliver('generic', hooked, sha())).status).toBe(202);
  });

  it('is refused for an image app (nothing to push) and for a malformed id', async () => {
    const img = await alice.api.post<{ id: string }>('/api/v1/apps', { projectId: project, name: `i${randomBytes(4).toString('hex')}`, region: REGION, planId: 'small', source: { type: 'image', image: 'busybox:latest' } });
    expect(img.status).toBe(201);
    expect((await alice.api.get<ApiErrorBody>(`/api/v1/apps/${img.body.id}/webhook`)).body.error.code).toBe('CONFLICT');
    expect((await alice.api.post(`/api/v1/apps/${img.body.id}/webhook/rotate`)).status).toBe(409);
    expect((await alice.api.get(`/api/v1/apps/not-an-id/webhook`)).status).toBe(400);
  });
});

describe('a signed push', () => {
  it.each(PROVIDERS)('%s: queues a deploy of exactly the pushed commit, within a second', async (provider) => {
    const after = sha();
    const res = await deliver(provider, hooked, after);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(Object.keys(res.body)).toEqual(['deployId']);
    expect(res.ms).toBeLessThan(1000);
    const rows = await deploysWithSha(after);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: res.body.deployId, app_id: hooked.appId, kind: 'deploy', ref: 'main', created_by: null });
    expect(['queued', 'building', 'releasing', 'succeeded', 'failed', 'cancelled']).toContain(rows[0]!.status);
    const delivery = await cp.db('webhook_deliveries').where({ deploy_id: res.body.deployId }).first<{ app_id: string; provider: string }>();
    expect(delivery).toMatchObject({ app_id: hooked.appId, provider });
    // Written after the answer (the answer does not wait for it).
    await eventually(async () => {
      const audit = await cp.db('audit_log').where({ action: 'app.webhook.push', target: `app:${hooked.appId}` }).whereRaw("details->>'deployId' = ?", [res.body.deployId as string]);
      expect(audit).toHaveLength(1);
    });
  });

  it('is visible to the owner as the app’s deploy with its commit', async () => {
    const after = sha();
    const res = await deliver('github', hooked, after);
    const view = await alice.api.get<{ appId: string; commitSha?: string }>(`/api/v1/deploys/${res.body.deployId as string}`);
    expect(view.body).toMatchObject({ appId: hooked.appId, commitSha: after });
  });
});

describe('refused or ignored, nothing queued', () => {
  it.each(PROVIDERS)('%s: forged (another secret) and unsigned → 401', async (provider) => {
    const after = sha();
    const forged = await deliver(provider, { ...hooked, secret: 'not-the-secret-but-the-same-length-aaaaaaaa' }, after);
    expect(forged.status).toBe(401);
    expect((forged.body as unknown as ApiErrorBody).error.code).toBe('UNAUTHENTICATED');
    const push = pushOf(provider, after);
    expect((await send(hooked.urls[provider], push.body, push.headers)).status).toBe(401);
    expect(await deploysWithSha(after)).toEqual([]);
  });

  it('a body changed after signing → 401', async () => {
    const after = sha();
    const push = pushOf('github', sha());
    const headers = signed('github', hooked.secret, push);
    expect((await send(hooked.urls.github, push.body.replace(/"after":"[0-9a-f]+"/, `"after":"${after}"`), headers)).status).toBe(401);
    expect(await deploysWithSha(after)).toEqual([]);
  });

  it.each(PROVIDERS)('%s: an app whose secret was never set verifies nothing, not even an empty-key signature', async (provider) => {
    const appId = await createGitApp(alice);
    const hookId = `whk_${randomBytes(10).toString('hex')}`;
    await cp.db('apps').where({ id: appId }).update({ webhook_id: hookId, webhook_secret_ciphertext: null });
    const urls = Object.fromEntries(PROVIDERS.map((p) => [p, `http://x/hooks/${p}/${hookId}`])) as Record<HookProvider, string>;
    const after = sha();
    const res = await deliver(provider, { urls, secret: '' }, after);
    expect(res.status).toBe(401);
    const push = pushOf(provider, after);
    expect((await send(urls[provider], push.body, push.headers)).status).toBe(401);
    expect(await cp.db('deploys').where({ app_id: appId })).toEqual([]);
  });

  it.each(PROVIDERS)('%s: a replayed delivery → 200 duplicate, exactly one deploy', async (provider) => {
    const after = sha();
    const delivery = deliveryId();
    const push = pushOf(provider, after, { delivery });
    const headers = signed(provider, hooked.secret, push);
    const first = await send(hooked.urls[provider], push.body, headers);
    expect(first.status).toBe(202);
    const replay = await send(hooked.urls[provider], push.body, headers);
    expect(replay).toMatchObject({ status: 200, body: { ignored: 'duplicate delivery' } });
    // A new commit reusing the delivery id is still the same delivery.
    const reused = await deliver(provider, hooked, sha(), { delivery });
    expect(reused.body).toEqual({ ignored: 'duplicate delivery' });
    expect(await deploysWithSha(after)).toHaveLength(1);
    expect(await cp.db('webhook_deliveries').where({ app_id: hooked.appId, provider, delivery_id: delivery })).toHaveLength(1);
  });

  it('concurrent copies of one delivery queue one deploy', async () => {
    const after = sha();
    const push = pushOf('gitea', after);
    const headers = signed('gitea', hooked.secret, push);
    const answers = await Promise.all(Array.from({ length: 5 }, () => send(hooked.urls.gitea, push.body, headers)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 202]);
    expect(await deploysWithSha(after)).toHaveLength(1);
  });

  it.each(PROVIDERS)('%s: over 1 MiB → 413, even correctly signed', async (provider) => {
    const after = sha();
    const push = pushOf(provider, after);
    const big = push.body.slice(0, -1) + `,"pad":"${'x'.repeat(1024 * 1024)}"}`;
    const res = await send(hooked.urls[provider], big, signed(provider, hooked.secret, { ...push, body: big }));
    expect(res.status).toBe(413);
    expect((res.body as unknown as ApiErrorBody).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await deploysWithSha(after)).toEqual([]);
  });

  it('just under 1 MiB is read and verified', async () => {
    const after = sha();
    const push = pushOf('generic', after);
    const body = push.body.slice(0, -1) + `,"pad":"${'x'.repeat(1024 * 1024 - push.body.length - 12)}"}`;
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1024 * 1024);
    expect((await send(hooked.urls.generic, body, signed('generic', hooked.secret, { ...push, body }))).status).toBe(202);
  });

  it.each(PROVIDERS)('%s: a push to another branch, a tag or a branch deletion → 200 with the reason', async (provider) => {
    const after = sha();
    const other = await deliver(provider, hooked, after, { ref: 'refs/heads/feature' });
    expect(other).toMatchObject({ status: 200, body: { ignored: 'push to another branch ("feature"); this app deploys "main"' } });
    const tag = await deliver(provider, hooked, after, { ref: 'refs/tags/v1' });
    expect(tag).toMatchObject({ status: 200, body: { ignored: expect.stringContaining('not a branch push') as string } });
    const deleted = await deliver(provider, hooked, '0'.repeat(40));
    expect(deleted).toMatchObject({ status: 200, body: { ignored: 'branch deleted' } });
    expect(await deploysWithSha(after)).toEqual([]);
  });

  it.each<[HookProvider, string]>([
    ['github', 'ping'],
    ['gitlab', 'Merge Request Hook'],
    ['gitea', 'pull_request'],
  ])('%s: a non-push event (%s) → 200 with the reason', async (provider, event) => {
    const after = sha();
    const res = await deliver(provider, hooked, after, { event });
    expect(res).toMatchObject({ status: 200, body: { ignored: `not a push event (${event})` } });
    expect(await deploysWithSha(after)).toEqual([]);
  });

  it('signed but not the provider’s format → 400 naming the field', async () => {
    const after = sha();
    const body = JSON.stringify({ ref: 'refs/heads/main', after: after.slice(0, 7) });
    const res = await send(hooked.urls.generic, body, { 'x-karvon-delivery': deliveryId(), ...Object.fromEntries([signatureHeader('generic', hooked.secret, body)]) });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('body.after');
    const noDelivery = pushOf('github', after);
    delete noDelivery.headers['x-github-delivery'];
    expect((await send(hooked.urls.github, noDelivery.body, signed('github', hooked.secret, noDelivery))).status).toBe(400);
    expect(await deploysWithSha(after)).toEqual([]);
  });

  it.each(PROVIDERS)('%s: an unknown hook → 404, the same for a valid-looking and a malformed id', async (provider) => {
    const after = sha();
    const push = pushOf(provider, after);
    const headers = signed(provider, hooked.secret, push);
    const valid = await send(`http://x/hooks/${provider}/whk_${'0'.repeat(20)}`, push.body, headers);
    const malformed = await send(`http://x/hooks/${provider}/..%2Fapps`, push.body, headers);
    expect(valid.status).toBe(404);
    expect(malformed.status).toBe(404);
    expect(valid.body).toEqual(malformed.body);
    expect(valid.body).toEqual({ error: { code: 'NOT_FOUND', message: 'no such hook' } });
    expect(await deploysWithSha(after)).toEqual([]);
  });

  it('an unknown provider is no route', async () => {
    const push = pushOf('generic', sha());
    expect((await send(`http://x/hooks/bitbucket/${hooked.urls.generic.split('/').pop()!}`, push.body, signed('generic', hooked.secret, push))).status).toBe(404);
  });

  it('a deleted app’s hook is unknown', async () => {
    const target = await hookFor(alice, await createGitApp(alice));
    expect((await alice.api.delete(`/api/v1/apps/${target.appId}`)).status).toBe(202);
    const after = sha();
    expect((await deliver('generic', target, after)).status).toBe(404);
    expect(await deploysWithSha(after)).toEqual([]);
  });

  it('an app on another branch ignores pushes to main and deploys its own', async () => {
    const target = await hookFor(alice, await createGitApp(alice, 'release/v2'));
    const main = sha();
    expect((await deliver('github', target, main)).body).toEqual({ ignored: 'push to another branch ("main"); this app deploys "release/v2"' });
    const own = sha();
    expect((await deliver('github', target, own, { ref: 'refs/heads/release/v2' })).status).toBe(202);
    expect((await deploysWithSha(own))[0]).toMatchObject({ app_id: target.appId, ref: 'release/v2' });
    expect(await deploysWithSha(main)).toEqual([]);
  });
});

describe('rotation', () => {
  it.each(PROVIDERS)('%s: after rotate the old secret fails and the new one works', async (provider) => {
    const target = await hookFor(alice, await createGitApp(alice));
    const rotated = await alice.api.post<Rotated>(`/api/v1/apps/${target.appId}/webhook/rotate`);
    expect(rotated.body.secret).not.toBe(target.secret);
    const old = sha();
    expect((await deliver(provider, target, old)).status).toBe(401);
    expect(await deploysWithSha(old)).toEqual([]);
    expect((await deliver(provider, { urls: rotated.body.urls, secret: rotated.body.secret }, sha())).status).toBe(202);
  });
});

// Last: stops this control plane's deploy engine so queued deploys stay queued.
describe('newest push wins', () => {
  it('a newer push cancels a still-queued older one', async () => {
    await cp.deploys.stop();
    const target = await hookFor(alice, await createGitApp(alice));
    const [older, newer] = [sha(), sha()];
    expect((await deliver('github', target, older)).status).toBe(202);
    expect((await deliver('gitlab', target, newer)).status).toBe(202);
    const [o] = await deploysWithSha(older);
    const [n] = await deploysWithSha(newer);
    expect(o!.status).toBe('cancelled');
    expect(n!.status).toBe('queued');
  });
});
