// Private git sources through the API, against a real control plane and PostgreSQL: the token is
// stored sealed and never returned, bad input is refused naming the field with nothing stored,
// the deploy key is made, shown and rotated, and the build task row keeps only sealed values
// (opened into the frame by build-task-secrets.ts; the agent side is apps/agent/test/git-private*).
import type { Task } from '@karvon/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiErrorBody } from '../../../../test/api-client';
import { startTestControlPlane, type TestControlPlane } from '../../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../../test/customers';
import { eventually } from '../../../../test/eventually';
import { createNodeFixture } from '../../../../test/fixtures';
import { loadMasterKey } from '../auth/master-key';
import { loadConfig } from '../config';
import { openBuildTaskSecrets } from '../builds/build-task-secrets';
import { secretBoxFromMasterKeys } from '../secrets/secret-box';

const REGION = 'private-git-1';
const TOKEN = 'ghp_privateTOKENvalue0123456789abcdef';

interface AppBody {
  id: string;
  source: { type: string; url?: string; branch?: string; auth?: { type: string; username?: string; fingerprint?: string } };
}
interface DeployKeyBody {
  publicKey: string;
  fingerprint: string;
  createdAt: string;
  knownHosts: string[];
}

let cp: TestControlPlane;
let alice: Customer;
let bob: Customer;
let project: string;
let builder: string;
const fieldsOf = (body: unknown) => ((body as ApiErrorBody).error.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path);
let seq = 0;
const name = () => `priv${++seq}${Math.random().toString(36).slice(2, 6)}`;

async function createGitApp(source: Record<string, unknown>, appName = name()) {
  return alice.api.post<AppBody>('/api/v1/apps', { projectId: project, name: appName, region: REGION, planId: 'small', source: { type: 'git', ...source } });
}

/** The build task the deploy engine queued for an app (a builder fixture node is never connected, so it stays queued). */
async function buildTaskOf(appId: string): Promise<{ payload: Task<'build'>['payload']; raw: string }> {
  const deploy = await alice.api.post<{ id: string }>(`/api/v1/apps/${appId}/deploys`, {});
  expect(deploy.status).toBe(202);
  return eventually(async () => {
    const row = await cp
      .db('tasks')
      .where({ node_id: builder, kind: 'build' })
      .whereRaw(`payload->>'appId' = ?`, [appId])
      .orderBy('created_at', 'desc')
      .first<{ payload: Task<'build'>['payload'] } | undefined>('payload');
    expect(row).toBeDefined();
    return { payload: row!.payload, raw: JSON.stringify(row) };
  }, 20_000);
}

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_MUTATIONS_PER_MINUTE: '100000', KARVON_MUTATION_BURST: '100000' });
  const admin = await cp.adminClient();
  await ensureCatalog(admin, REGION);
  alice = await registerCustomer(cp.api, 'alice', { admin, tier: 'business' });
  bob = await registerCustomer(cp.api, 'bob', { admin, tier: 'business' });
  project = (await alice.api.post<{ id: string }>('/api/v1/projects', { name: 'private' })).body.id;
  builder = await createNodeFixture(cp.db, REGION, { cpuMillicores: 16_000, memoryMb: 32_000, diskMb: 100_000 });
});

afterAll(async () => {
  await cp?.stop();
});

describe('https token', () => {
  it('is stored sealed, shown only as set, and the build task row keeps only the sealed value', async () => {
    const created = await createGitApp({ url: 'https://git.example.com/acme/private.git', auth: { type: 'token', token: TOKEN } });
    expect(created.status).toBe(201);
    expect(created.body.source).toEqual({ type: 'git', url: 'https://git.example.com/acme/private.git', branch: 'main', auth: { type: 'token', username: 'x-access-token' } });
    const id = created.body.id;
    for (const res of [await alice.api.get(`/api/v1/apps/${id}`), await alice.api.get('/api/v1/apps')]) expect(JSON.stringify(res.body)).not.toContain(TOKEN);
    const row = await cp.db('apps').where({ id }).first<{ source: unknown; git_token_ciphertext: string; git_token_username: string }>();
    expect(row.source).toEqual({ type: 'git', url: 'https://git.example.com/acme/private.git', branch: 'main' });
    expect(row.git_token_ciphertext).toMatch(/^v1\./);
    expect(row.git_token_ciphertext).not.toContain(TOKEN);

    const task = await buildTaskOf(id);
    expect(task.raw).not.toContain(TOKEN);
    expect(task.payload.source.auth).toEqual({ type: 'token', username: 'x-access-token', token: row.git_token_ciphertext });
    // Opened only into the frame, with this control plane's key.
    const config = loadConfig({ DATABASE_URL: cp.databaseUrl, KARVON_DATA_DIR: cp.dataDir });
    const box = secretBoxFromMasterKeys(await loadMasterKey(config.masterKey, cp.dataDir));
    const frameTask = { id: 'task_x', kind: 'build', idempotencyKey: 'k', deadline: new Date().toISOString(), attempt: 1, sessionGeneration: 1, payload: task.payload } as Task;
    const opened = openBuildTaskSecrets(frameTask, box, () => undefined) as Task<'build'>;
    expect(opened.payload.source.auth).toEqual({ type: 'token', username: 'x-access-token', token: TOKEN });
    // Bound to the app: moved to another app's task, it does not open (and is left out, not sent sealed).
    const errors: unknown[] = [];
    const moved = openBuildTaskSecrets({ ...frameTask, payload: { ...task.payload, appId: 'app_someoneelse000000000' } } as Task, box, (e) => errors.push(e)) as Task<'build'>;
    expect(moved.payload.source.auth).toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('refuses bad credentials input naming the field, storing nothing', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: 'ssh://git@git.example.com/acme/x.git', auth: { type: 'token', token: TOKEN } }, 'source.auth'],
      [{ url: 'git@git.example.com:acme/x.git', auth: { type: 'token', token: TOKEN } }, 'source.auth'],
      [{ url: 'https://git.example.com/acme/x.git', auth: { type: 'token', token: 'has space' } }, 'source.auth.token'],
      [{ url: 'https://git.example.com/acme/x.git', auth: { type: 'token', token: '' } }, 'source.auth.token'],
      [{ url: 'https://git.example.com/acme/x.git', auth: { type: 'token', token: 'x'.repeat(4097) } }, 'source.auth.token'],
      [{ url: 'https://git.example.com/acme/x.git', auth: { type: 'token', token: TOKEN, username: 'a:b' } }, 'source.auth.username'],
      [{ url: 'https://git.example.com/acme/x.git', auth: { type: 'password', token: TOKEN } }, 'source.auth.type'],
      [{ url: 'https://git.example.com/acme/x.git', auth: { type: 'token', token: TOKEN, extra: 1 } }, 'source.auth'],
    ];
    for (const [source, field] of cases) {
      const appName = name();
      const res = await createGitApp(source, appName);
      expect(res.status, JSON.stringify(source).slice(0, 120)).toBe(400);
      expect(fieldsOf(res.body).some((f) => f.startsWith(field)), `${field}: ${JSON.stringify(fieldsOf(res.body))}`).toBe(true);
      expect(JSON.stringify(res.body)).not.toContain(TOKEN);
      expect(await cp.db('apps').where({ name: appName }).first()).toBeUndefined();
    }
  });

  it('PATCH keeps the token while the URL stays, drops it when the URL moves or auth is null', async () => {
    const url = 'https://git.example.com/acme/keep.git';
    const id = (await createGitApp({ url, auth: { type: 'token', token: TOKEN, username: 'bot' } })).body.id;
    const sealed = async () => (await cp.db('apps').where({ id }).first<{ git_token_ciphertext: string | null }>()).git_token_ciphertext;
    const first = await sealed();
    const branch = await alice.api.patch<AppBody>(`/api/v1/apps/${id}`, { source: { type: 'git', url, branch: 'release' } });
    expect(branch.status).toBe(200);
    expect(branch.body.source.auth).toEqual({ type: 'token', username: 'bot' });
    expect(await sealed()).toBe(first);
    const moved = await alice.api.patch<AppBody>(`/api/v1/apps/${id}`, { source: { type: 'git', url: 'https://other.example.com/acme/keep.git' } });
    expect(moved.body.source.auth).toBeUndefined();
    expect(await sealed()).toBeNull();
    await alice.api.patch(`/api/v1/apps/${id}`, { source: { type: 'git', url, auth: { type: 'token', token: TOKEN } } });
    expect(await sealed()).toMatch(/^v1\./);
    const cleared = await alice.api.patch<AppBody>(`/api/v1/apps/${id}`, { source: { type: 'git', url, auth: null } });
    expect(cleared.body.source.auth).toBeUndefined();
    expect(await sealed()).toBeNull();
  });
});

describe('ssh deploy key', () => {
  it('is made on first read, stable, rotated on request, sealed at rest, and travels sealed in the build task', async () => {
    const id = (await createGitApp({ url: 'ssh://git@git.example.com:2222/acme/private.git' })).body.id;
    const first = await alice.api.get<DeployKeyBody>(`/api/v1/apps/${id}/deploy-key`);
    expect(first.status).toBe(200);
    expect(first.body.publicKey).toMatch(new RegExp(`^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} karvon-app-${id}$`));
    expect(first.body.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(first.body.knownHosts).toEqual([]);
    expect(JSON.stringify(first.body)).not.toContain('PRIVATE KEY');
    expect((await alice.api.get<DeployKeyBody>(`/api/v1/apps/${id}/deploy-key`)).body.publicKey).toBe(first.body.publicKey);
    expect((await alice.api.get<AppBody>(`/api/v1/apps/${id}`)).body.source.auth).toEqual({ type: 'deploy-key', fingerprint: first.body.fingerprint });
    const audit = await cp.db('audit_log').where({ action: 'app.deploy-key.create', target: `app:${id}` }).select('id');
    expect(audit).toHaveLength(1);

    const row = await cp.db('apps').where({ id }).first<{ deploy_key_private_ciphertext: string }>();
    expect(row.deploy_key_private_ciphertext).toMatch(/^v1\./);
    expect(row.deploy_key_private_ciphertext).not.toContain('OPENSSH');
    const task = await buildTaskOf(id);
    expect(task.raw).not.toContain('OPENSSH');
    expect(task.payload.source.auth).toEqual({ type: 'ssh-key', privateKey: row.deploy_key_private_ciphertext, knownHosts: '' });

    const rotated = await alice.api.post<DeployKeyBody>(`/api/v1/apps/${id}/deploy-key/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.publicKey).not.toBe(first.body.publicKey);
    expect((await alice.api.get<DeployKeyBody>(`/api/v1/apps/${id}/deploy-key`)).body.publicKey).toBe(rotated.body.publicKey);
    const after = await cp.db('apps').where({ id }).first<{ deploy_key_private_ciphertext: string }>();
    expect(after.deploy_key_private_ciphertext).not.toBe(row.deploy_key_private_ciphertext);

    // Host keys the builds met are shown, and can be forgotten.
    await cp.db('apps').where({ id }).update({ git_known_hosts: '[git.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost\n' });
    expect((await alice.api.get<DeployKeyBody>(`/api/v1/apps/${id}/deploy-key`)).body.knownHosts).toEqual(['[git.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost']);
    expect((await alice.api.delete(`/api/v1/apps/${id}/deploy-key/known-hosts`)).status).toBe(204);
    expect((await alice.api.get<DeployKeyBody>(`/api/v1/apps/${id}/deploy-key`)).body.knownHosts).toEqual([]);
  });

  it("answers 404 for another tenant's app and 409 for an image app, making nothing", async () => {
    const id = (await createGitApp({ url: 'git@git.example.com:acme/other.git' })).body.id;
    expect((await bob.api.get(`/api/v1/apps/${id}/deploy-key`)).status).toBe(404);
    expect((await bob.api.post(`/api/v1/apps/${id}/deploy-key/rotate`)).status).toBe(404);
    expect((await bob.api.delete(`/api/v1/apps/${id}/deploy-key/known-hosts`)).status).toBe(404);
    expect((await cp.db('apps').where({ id }).first<{ deploy_key_public: string | null }>()).deploy_key_public).toBeNull();
    const image = await alice.api.post<AppBody>('/api/v1/apps', { projectId: project, name: name(), region: REGION, planId: 'small', source: { type: 'image', image: 'busybox:latest' } });
    expect((await alice.api.get(`/api/v1/apps/${image.body.id}/deploy-key`)).status).toBe(409);
    expect((await alice.api.post(`/api/v1/apps/${image.body.id}/deploy-key/rotate`)).status).toBe(409);
    expect((await cp.db('apps').where({ id: image.body.id }).first<{ deploy_key_public: string | null }>()).deploy_key_public).toBeNull();
  });
});
