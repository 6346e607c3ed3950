// Private repositories end to end: a real control plane and PostgreSQL, a real agent process, the
// Docker engine, a loopback HTTPS forge that requires basic auth and a loopback sshd serving the
// same repos to deploy keys. A deploy with the app's token or deploy key builds and answers; a
// wrong token and a rotated key fail with CLONE_FAILED; and the token and the private key appear
// in no task row, no agent log line and no build log.
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiClient } from '../../../test/api-client';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { startGitServer, type TestGitServer } from '../../../test/git/git-server';
import { startSshGitServer, type TestSshGitServer } from '../../../test/git/ssh-git-server';
import { REPO_ROOT } from '../../../test/processes';
import { startAgent, type TestAgent } from './git-deploy-harness';
import { fetchText } from './runtime-fixtures';

const fixturesDir = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'apps');
const REGION = 'gitp-1';
const USER = 'deploy-bot';
const TOKEN = `glpat-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
const basicOf = (user: string, token: string) => Buffer.from(`${user}:${token}`).toString('base64');

interface Deploy {
  id: string;
  status: string;
  commitSha?: string;
  error?: { code: string; message: string };
}

await describeDocker('deploys from private repositories', () => {
  let docker: Docker;
  let git: TestGitServer;
  let sshd: TestSshGitServer;
  let cp: TestControlPlane;
  let admin: ApiClient;
  let customer: Customer;
  let agent: TestAgent;
  let projectId = '';
  let sha = '';

  const api = () => customer.api;
  const deployAndWait = async (appId: string): Promise<Deploy & { log: string }> => {
    const queued = await api().post<{ id: string }>(`/api/v1/apps/${appId}/deploys`, {});
    expect(queued.status, JSON.stringify(queued.body)).toBe(202);
    const done = await eventually(
      async () => {
        const d = (await api().get<Deploy>(`/api/v1/deploys/${queued.body.id}`)).body;
        expect(['succeeded', 'failed', 'cancelled']).toContain(d.status);
        return d;
      },
      150_000,
      250,
    );
    return { ...done, log: await (await api().fetch(`/api/v1/deploys/${queued.body.id}/logs`)).text() };
  };
  const serving = (appId: string, content: string) =>
    eventually(
      async () => {
        const list = (await api().get<{ items: Array<{ status: string; upstream: string }> }>(`/api/v1/apps/${appId}/instances`)).body.items;
        expect(list.map((i) => i.status)).toEqual(['healthy']);
        expect(await fetchText(`http://${list[0]!.upstream}/`)).toContain(content);
      },
      60_000,
      250,
    );
  const createApp = async (name: string, source: Record<string, unknown>) => {
    const res = await api().post<{ id: string }>('/api/v1/apps', { projectId, name, region: REGION, planId: 'small', source: { type: 'git', branch: 'main', ...source }, healthCheck: { type: 'http', path: '/' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  };
  /** every place a credential could leak to: task rows, the agent's log, builds' logs and errors */
  const everywhere = async () => [JSON.stringify(await cp.db('tasks').select('*')), JSON.stringify(await cp.db('builds').select('*')), JSON.stringify(await cp.db('deploys').select('*')), agent.proc.output()].join('\n');

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    git = await startGitServer({ basicAuth: { username: USER, password: TOKEN } });
    sshd = await startSshGitServer(git.reposDir);
    sha = await git.commit('private-site', { fromDir: path.join(fixturesDir, 'static-site'), files: { 'index.html': '<h1>served from a private repository</h1>\n' } });
    cp = await startTestControlPlane({ KARVON_HEARTBEAT_SECONDS: '1', KARVON_ROLLOUT_TIMEOUT_SECONDS: '120', KARVON_DEGRADED_PERCENT: '100', KARVON_MUTATIONS_PER_MINUTE: '10000', KARVON_MUTATION_BURST: '10000' });
    admin = await cp.adminClient();
    await ensureCatalog(admin, REGION);
    // The agent may reach both loopback servers (https and ssh).
    agent = await startAgent(cp, admin, { ...git, hostPort: `${git.hostPort},${sshd.hostPort}` }, docker, REGION, 'private');
    await eventually(() => expect(cp.hub.sessionGeneration(agent.nodeId), agent.proc.output()).toBeDefined(), 20_000);
    customer = await registerCustomer(cp.api, 'private', { admin, tier: 'business' });
    projectId = (await api().post<{ id: string }>('/api/v1/projects', { name: 'private' })).body.id;
  });

  afterAll(async () => {
    await agent?.stop();
    await cp?.stop();
    await sshd?.close();
    await git?.close();
  });

  it('https token: the deploy builds and answers; a wrong token fails with CLONE_FAILED; the token is nowhere', async () => {
    const appId = await createApp('private-https', { url: git.url('private-site'), auth: { type: 'token', username: USER, token: TOKEN } });
    const ok = await deployAndWait(appId);
    expect(ok, ok.log).toMatchObject({ status: 'succeeded', commitSha: sha });
    await serving(appId, 'served from a private repository');

    const wrong = `${TOKEN}-revoked`;
    expect((await api().patch(`/api/v1/apps/${appId}`, { source: { type: 'git', url: git.url('private-site'), auth: { type: 'token', username: USER, token: wrong } } })).status).toBe(200);
    const bad = await deployAndWait(appId);
    expect(bad.status, bad.log).toBe('failed');
    expect(bad.error?.code).toBe('CLONE_FAILED');
    expect(bad.error?.message).toMatch(/git token/);
    // The previous release keeps serving.
    await serving(appId, 'served from a private repository');

    const all = [await everywhere(), ok.log, bad.log, JSON.stringify(bad.error)].join('\n');
    for (const secret of [TOKEN, wrong, basicOf(USER, TOKEN), basicOf(USER, wrong)]) expect(all.includes(secret), `leaked ${secret.slice(0, 12)}…`).toBe(false);
  }, 300_000);

  it('ssh deploy key: the deploy builds and answers, the host key is trusted on first use, a rotated key no longer clones', async () => {
    const appId = await createApp('private-ssh', { url: sshd.url('private-site') });
    const key = (await api().get<{ publicKey: string; knownHosts: string[] }>(`/api/v1/apps/${appId}/deploy-key`)).body;
    await sshd.authorize([key.publicKey]);
    const ok = await deployAndWait(appId);
    expect(ok, ok.log).toMatchObject({ status: 'succeeded', commitSha: sha });
    await serving(appId, 'served from a private repository');
    expect((await api().get<{ knownHosts: string[] }>(`/api/v1/apps/${appId}/deploy-key`)).body.knownHosts).toEqual([sshd.knownHostsLine]);

    // Rotated: the forge still lists only the old key, and Karvon no longer has it.
    const rotated = (await api().post<{ publicKey: string }>(`/api/v1/apps/${appId}/deploy-key/rotate`)).body;
    expect(rotated.publicKey).not.toBe(key.publicKey);
    const bad = await deployAndWait(appId);
    expect(bad.status, bad.log).toBe('failed');
    expect(bad.error?.code).toBe('CLONE_FAILED');
    expect(bad.error?.message).toMatch(/deploy key/);
    // With the new key added at the forge, it deploys again.
    await sshd.authorize([rotated.publicKey]);
    const again = await deployAndWait(appId);
    expect(again, again.log).toMatchObject({ status: 'succeeded', commitSha: sha });

    const all = [await everywhere(), ok.log, bad.log, again.log].join('\n');
    expect(all).not.toContain('OPENSSH PRIVATE KEY');
    expect(all).not.toContain('b3BlbnNzaC1rZXktdjE'); // base64 of "openssh-key-v1"
  }, 300_000);
});
