import { describe, expect, it } from 'vitest';
import { DomainError } from '../domain/errors';
import type { AppSource } from '../apps/app-schemas';
import type { HookProvider } from './hook-secret';
import { decidePush, readDelivery, type HookDelivery } from './push-delivery';
import type { HeaderBag } from './signature';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const ZEROS = '0'.repeat(40);

/** Each provider's push, trimmed to a realistic subset of what the host sends. */
function push(provider: HookProvider, over: { ref?: string; after?: string; extra?: Record<string, unknown> } = {}): { headers: HeaderBag; body: Buffer } {
  const ref = over.ref ?? 'refs/heads/main';
  const after = over.after ?? SHA;
  const common = { ref, before: 'f'.repeat(40), after, ...over.extra };
  switch (provider) {
    case 'github':
      return {
        headers: { 'x-github-event': 'push', 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' },
        body: Buffer.from(JSON.stringify({ ...common, deleted: after === ZEROS, repository: { clone_url: 'https://github.com/o/r.git', full_name: 'o/r' }, pusher: { name: 'o' } })),
      };
    case 'gitlab':
      return {
        headers: { 'x-gitlab-event': 'Push Hook', 'idempotency-key': 'f6a4d8f7-4c5b-4b2a-9a1e-1b7a3f0c2d9e' },
        body: Buffer.from(JSON.stringify({ object_kind: 'push', ...common, checkout_sha: after, repository: { git_http_url: 'https://gitlab.com/o/r.git' } })),
      };
    case 'gitea':
      return {
        headers: { 'x-gitea-event': 'push', 'x-gitea-delivery': '1b2c3d4e-0000-4000-8000-000000000001' },
        body: Buffer.from(JSON.stringify({ ...common, repository: { clone_url: 'https://git.example/o/r.git' } })),
      };
    case 'generic':
      return { headers: { 'x-karvon-delivery': 'ci-run-42' }, body: Buffer.from(JSON.stringify({ ref, after, ...over.extra })) };
  }
}

const DELIVERY: Record<HookProvider, string> = {
  github: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
  gitlab: 'f6a4d8f7-4c5b-4b2a-9a1e-1b7a3f0c2d9e',
  gitea: '1b2c3d4e-0000-4000-8000-000000000001',
  generic: 'ci-run-42',
};
const PROVIDERS: HookProvider[] = ['github', 'gitlab', 'gitea', 'generic'];

function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe('VALIDATION_FAILED');
    return ((e as DomainError).details?.fields as Array<{ path: string }>).map((f) => f.path);
  }
  throw new Error('expected VALIDATION_FAILED');
}

describe('readDelivery', () => {
  it.each(PROVIDERS)('%s: a branch push gives the delivery id, branch and full SHA', (provider) => {
    const { headers, body } = push(provider);
    expect(readDelivery(provider, headers, body)).toEqual({ kind: 'push', deliveryId: DELIVERY[provider], branch: 'main', after: SHA });
  });

  it.each(PROVIDERS)('%s: keeps slashes in branch names and lower-cases the SHA', (provider) => {
    const { headers, body } = push(provider, { ref: 'refs/heads/release/v2', after: SHA.toUpperCase() });
    expect(readDelivery(provider, headers, body)).toMatchObject({ kind: 'push', branch: 'release/v2', after: SHA });
  });

  it.each(PROVIDERS)('%s: accepts a SHA-256 repository’s 64-digit commit ids', (provider) => {
    const { headers, body } = push(provider, { after: 'ab'.repeat(32) });
    expect(readDelivery(provider, headers, body)).toMatchObject({ kind: 'push', after: 'ab'.repeat(32) });
  });

  it.each(PROVIDERS)('%s: ignores a branch deletion and a tag push', (provider) => {
    const deleted = push(provider, { after: ZEROS });
    expect(readDelivery(provider, deleted.headers, deleted.body)).toEqual({ kind: 'ignored', deliveryId: DELIVERY[provider], reason: 'branch deleted' });
    const tag = push(provider, { ref: 'refs/tags/v1.0.0' });
    expect(readDelivery(provider, tag.headers, tag.body)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('not a branch push') as string });
    const bare = push(provider, { ref: 'refs/heads/' });
    expect(readDelivery(provider, bare.headers, bare.body)).toMatchObject({ kind: 'ignored' });
  });

  it.each<[HookProvider, string, string]>([
    ['github', 'x-github-event', 'ping'],
    ['github', 'x-github-event', 'pull_request'],
    ['gitlab', 'x-gitlab-event', 'Tag Push Hook'],
    ['gitlab', 'x-gitlab-event', 'Merge Request Hook'],
    ['gitea', 'x-gitea-event', 'create'],
  ])('%s: ignores a non-push event (%s: %s) without reading the body', (provider, header, event) => {
    const { headers } = push(provider);
    expect(readDelivery(provider, { ...headers, [header]: event }, Buffer.from('not json'))).toMatchObject({ kind: 'ignored', reason: `not a push event (${event})` });
  });

  it('takes GitLab’s X-Gitlab-Event-UUID when there is no Idempotency-Key', () => {
    const { headers, body } = push('gitlab');
    const older = { 'x-gitlab-event': headers['x-gitlab-event'], 'x-gitlab-event-uuid': 'older-uuid-1' };
    expect(readDelivery('gitlab', older, body)).toMatchObject({ kind: 'push', deliveryId: 'older-uuid-1' });
  });

  it.each<[HookProvider, string]>([
    ['github', 'x-github-delivery'],
    ['gitlab', 'idempotency-key'],
    ['gitea', 'x-gitea-delivery'],
    ['generic', 'x-karvon-delivery'],
  ])('%s: refuses a missing or malformed delivery id, naming the header', (provider, header) => {
    const { headers, body } = push(provider);
    const without = { ...headers, [header]: undefined };
    expect(fieldsOf(() => readDelivery(provider, without, body))).toEqual([`headers.${header}`]);
    for (const bad of ['', 'x'.repeat(129), 'a b', 'id\nX-Injected: 1']) {
      expect(fieldsOf(() => readDelivery(provider, { ...headers, [header]: bad }, body))).toEqual([`headers.${header}`]);
    }
  });

  it.each<[HookProvider, string]>([
    ['github', 'x-github-event'],
    ['gitlab', 'x-gitlab-event'],
    ['gitea', 'x-gitea-event'],
  ])('%s: refuses a missing event header', (provider, header) => {
    const { headers, body } = push(provider);
    expect(fieldsOf(() => readDelivery(provider, { ...headers, [header]: undefined }, body))).toEqual([`headers.${header}`]);
  });

  it.each(PROVIDERS)('%s: refuses malformed JSON and payloads without a full SHA or a ref', (provider) => {
    const { headers } = push(provider);
    expect(fieldsOf(() => readDelivery(provider, headers, Buffer.from('{"ref":')))).toEqual(['body']);
    expect(fieldsOf(() => readDelivery(provider, headers, Buffer.alloc(0)))).toEqual(['body']);
    const shortSha = push(provider, { after: 'abc1234' });
    expect(fieldsOf(() => readDelivery(provider, headers, shortSha.body))).toContain('body.after');
    expect(fieldsOf(() => readDelivery(provider, headers, Buffer.from('[]')))).not.toEqual([]);
    const noRef = JSON.parse(push(provider).body.toString()) as Record<string, unknown>;
    delete noRef.ref;
    expect(fieldsOf(() => readDelivery(provider, headers, Buffer.from(JSON.stringify(noRef))))).toContain('body.ref');
  });

  it('github and gitea payloads must name the repository; gitlab must say object_kind push', () => {
    const gh = push('github');
    expect(fieldsOf(() => readDelivery('github', gh.headers, Buffer.from(JSON.stringify({ ref: 'refs/heads/main', after: SHA }))))).toEqual(['body.repository']);
    const gl = push('gitlab');
    const wrongKind = { ...(JSON.parse(gl.body.toString()) as object), object_kind: 'tag_push' };
    expect(fieldsOf(() => readDelivery('gitlab', gl.headers, Buffer.from(JSON.stringify(wrongKind))))).toEqual(['body.object_kind']);
  });

  it('drops unknown fields and prototype keys instead of carrying them', () => {
    const { headers } = push('generic');
    const body = Buffer.from(`{"ref":"refs/heads/main","after":"${SHA}","__proto__":{"polluted":true},"constructor":{"x":1}}`);
    const d = readDelivery('generic', headers, body);
    expect(d).toEqual({ kind: 'push', deliveryId: 'ci-run-42', branch: 'main', after: SHA });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('decidePush', () => {
  const git: AppSource = { type: 'git', url: 'https://github.com/o/r.git', branch: 'main' };
  const pushed = (branch: string): HookDelivery => ({ kind: 'push', deliveryId: 'd1', branch, after: SHA });

  it.each<[string, HookDelivery, AppSource, ReturnType<typeof decidePush>]>([
    ['the app’s branch deploys', pushed('main'), git, { kind: 'deploy', deliveryId: 'd1', branch: 'main', after: SHA }],
    ['another branch is ignored', pushed('feature'), git, { kind: 'ignored', reason: 'push to another branch ("feature"); this app deploys "main"' }],
    ['a prefix of the branch is another branch', pushed('mai'), git, { kind: 'ignored', reason: expect.stringContaining('another branch') as string }],
    ['an image app has nothing to deploy from git', pushed('main'), { type: 'image', image: 'nginx:1' }, { kind: 'ignored', reason: 'the app does not deploy from git' }],
    ['an ignored delivery stays ignored', { kind: 'ignored', deliveryId: 'd1', reason: 'branch deleted' }, git, { kind: 'ignored', reason: 'branch deleted' }],
  ])('%s', (_name, delivery, source, expected) => {
    expect(decidePush(delivery, source)).toEqual(expected);
  });

  it('bounds a long pushed branch name in the reason', () => {
    const d = decidePush(pushed('b'.repeat(1000)), git);
    expect(d.kind === 'ignored' && d.reason.length).toBeLessThan(200);
  });
});
