// `git push` → running app, end to end: a real control plane and PostgreSQL, real agent processes,
// the Docker engine, the loopback HTTPS git server (test/git) and a loopback `docker-registry`.
// Signed pushes deploy the node-hello, static-site and dockerfile-app fixtures, which then answer
// on their upstreams; a second push deploys its commit; a broken build fails with its lines while
// the previous release serves; with a region registry an app built on the builder runs elsewhere.
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiClient } from '../../../test/api-client';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { ensureCatalog, registerCustomer, type Customer } from '../../../test/customers';
import { BUSYBOX_IMAGE, ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { eventually } from '../../../test/eventually';
import { startGitServer, type TestGitServer } from '../../../test/git/git-server';
import { REPO_ROOT } from '../../../test/processes';
import { appHook, signedPush, startAgent, startRegistry, type Hook, type TestAgent, type TestRegistry } from './git-deploy-harness';
import { fetchText } from './runtime-fixtures';

const fixturesDir = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'apps');
const REGION = 'gitd-1';
const REGISTRY_REGION = 'gitd-reg';
const FIXTURES = ['node-hello', 'static-site', 'dockerfile-app'] as const;

interface Deploy {
  id: string;
  status: string;
  commitSha?: string;
  releaseNumber?: number;
  error?: { code: string; message: string };
}
interface Instance {
  nodeId: string;
  status: string;
  upstream: string | null;
  release: number | null;
}
interface GitApp {
  id: string;
  repo: string;
  hook: Hook;
}

await describeDocker('git push to a running app', () => {
  let docker: Docker;
  let git: TestGitServer;
  let registry: TestRegistry;
  let cp: TestControlPlane;
  let admin: ApiClient;
  let customer: Customer;
  let projectId = '';
  const agents: TestAgent[] = [];
  const apps: Record<string, GitApp> = {};

  const api = () => customer.api;
  const instances = async (appId: string) => (await api().get<{ items: Instance[] }>(`/api/v1/apps/${appId}/instances`)).body.items;
  const finished = (id: string, timeoutMs = 150_000) =>
    eventually(
      async () => {
        const d = (await api().get<Deploy>(`/api/v1/deploys/${id}`)).body;
        expect(['succeeded', 'failed', 'cancelled']).toContain(d.status);
        return d;
      },
      timeoutMs,
      250,
    );
  const deployLog = async (id: string) => (await api().fetch(`/api/v1/deploys/${id}/logs`)).text();
  /** `n` healthy instances, each answering `/` on its upstream with text containing `content` */
  const serving = (appId: string, n: number, content: string) =>
    eventually(
      async () => {
        const list = await instances(appId);
        expect(list.map((i) => i.status)).toEqual(Array(n).fill('healthy'));
        for (const i of list) expect(await fetchText(`http://${i.upstream}/`)).toContain(content);
        return list;
      },
      60_000,
      250,
    );

  async function createGitApp(name: string, repo: string, region: string, replicas = 1): Promise<GitApp> {
    const created = await api().post<{ id: string }>('/api/v1/apps', {
      projectId,
      name,
      region,
      planId: 'small',
      replicas,
      source: { type: 'git', url: git.url(repo), branch: 'main' },
      healthCheck: { type: 'http', path: '/' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { id: created.body.id, repo, hook: await appHook(api(), created.body.id) };
  }

  /** A signed push of `sha`; the deploy it queued. */
  async function push(app: GitApp, sha: string): Promise<string> {
    const res = await signedPush(cp.url, app.hook, sha);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.deployId!;
  }

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    [git, registry] = await Promise.all([startGitServer(), startRegistry()]);
    cp = await startTestControlPlane({
      // Suspect after 2 × 2 + 1 s of silence: a loaded CI machine must not make the runner look
      // gone when the second replica is placed (state changes are reported at once anyway).
      KARVON_HEARTBEAT_SECONDS: '2',
      KARVON_NODE_GRACE_SECONDS: '30',
      KARVON_ROLLOUT_TIMEOUT_SECONDS: '120',
      KARVON_DEGRADED_PERCENT: '100',
      KARVON_MUTATIONS_PER_MINUTE: '10000',
      KARVON_MUTATION_BURST: '10000',
    });
    admin = await cp.adminClient();
    await ensureCatalog(admin, REGION);
    await ensureCatalog(admin, REGISTRY_REGION);
    // The operator points the region at its registry (PATCH /admin/regions/:id {registryUrl}).
    const setRegistry = await admin.patch(`/api/v1/admin/regions/${REGISTRY_REGION}`, { registryUrl: registry.addr });
    expect(setRegistry.status, JSON.stringify(setRegistry.body)).toBe(200);
    agents.push(
      ...(await Promise.all([
        startAgent(cp, admin, git, docker, REGION, 'solo'),
        startAgent(cp, admin, git, docker, REGISTRY_REGION, 'builder', ['builder']),
        startAgent(cp, admin, git, docker, REGISTRY_REGION, 'runner'),
      ])),
    );
    await eventually(() => {
      for (const a of agents) expect(cp.hub.sessionGeneration(a.nodeId), a.proc.output()).toBeDefined();
    }, 20_000);
    customer = await registerCustomer(cp.api, 'gitpush', { admin, tier: 'business' });
    projectId = (await api().post<{ id: string }>('/api/v1/projects', { name: 'pushed' })).body.id;
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await cp?.stop();
    await git?.close();
    await registry?.close();
  });

  it('deploys node-hello, static-site and dockerfile-app from signed pushes; each answers on its upstream', async () => {
    const shas: Record<string, string> = {};
    for (const repo of FIXTURES) {
      shas[repo] = await git.commit(repo, { fromDir: path.join(fixturesDir, repo) });
      apps[repo] = await createGitApp(repo, repo, REGION);
    }
    // Pushed at once: more builds than the node's build slots, so one waits for a slot.
    const deploys = Object.fromEntries(await Promise.all(FIXTURES.map(async (repo) => [repo, await push(apps[repo]!, shas[repo]!)] as const)));
    const answers: Record<string, string> = { 'node-hello': '"greeting":"hello from karvon"', 'static-site': 'static site served by karvon', 'dockerfile-app': 'dockerfile app' };
    const buildpacks: Record<string, string> = { 'node-hello': 'detect: node', 'static-site': 'detect: static', 'dockerfile-app': 'detect: dockerfile' };
    for (const repo of FIXTURES) {
      const done = await finished(deploys[repo]!);
      const log = await deployLog(deploys[repo]!);
      expect(done, log).toMatchObject({ status: 'succeeded', commitSha: shas[repo], releaseNumber: 1 });
      // The builder's own lines, kept with the deploy.
      for (const line of ['-----> clone', '-----> build', buildpacks[repo]!, '-----> done']) expect(log).toContain(line);
      await serving(apps[repo]!.id, 1, answers[repo]!);
    }
    // Without a registry in the region the release is pinned to the node that built it.
    const release = await cp.db('releases').where({ app_id: apps['node-hello']!.id, number: 1 }).first<{ commit_sha: string; config: { pinnedNode?: string } }>();
    expect(release).toMatchObject({ commit_sha: shas['node-hello'], config: { pinnedNode: agents[0]!.nodeId } });
  }, 240_000);

  it('a second push deploys the new commit and the new content is served', async () => {
    const site = apps['static-site']!;
    const sha = await git.commit(site.repo, { files: { 'index.html': '<!doctype html><h1>second push, new content</h1>\n' } });
    const done = await finished(await push(site, sha));
    expect(done).toMatchObject({ status: 'succeeded', commitSha: sha, releaseNumber: 2 });
    const [served] = await serving(site.id, 1, 'second push, new content');
    expect(served!.release).toBe(2);
  }, 180_000);

  it('a commit that breaks the build fails with BUILD_FAILED and its lines; the previous release keeps serving', async () => {
    const site = apps['static-site']!;
    const broken = `FROM ${BUSYBOX_IMAGE}\nRUN echo "compiling step-one" && echo "error: step-two is broken" >&2 && exit 7\n`;
    const sha = await git.commit(site.repo, { files: { Dockerfile: broken, 'index.html': 'never served\n' } });
    const id = await push(site, sha);
    const done = await finished(id);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('BUILD_FAILED');
    expect(done.error?.message).toContain('error: step-two is broken');
    const log = await deployLog(id);
    expect(log).toContain('compiling step-one');
    expect(log).toContain('error BUILD_FAILED');
    const app = await api().get<{ status: string; currentRelease: number }>(`/api/v1/apps/${site.id}`);
    expect(app.body).toMatchObject({ status: 'running', currentRelease: 2 });
    const [served] = await serving(site.id, 1, 'second push, new content');
    expect(served!.release).toBe(2);
  }, 180_000);

  it('with a region registry, an app built on the builder node runs on another node, pulled from the registry', async () => {
    const [, builder, runner] = agents;
    const sha = await git.commit('registry-site', { files: { 'index.html': '<h1>built on one node, run on another</h1>\n' } });
    const app = await createGitApp('registry-site', 'registry-site', REGISTRY_REGION);
    const done = await finished(await push(app, sha));
    expect(done, await deployLog(done.id)).toMatchObject({ status: 'succeeded', commitSha: sha });
    const build = await cp.db('builds').where({ app_id: app.id }).first<{ node_id: string; image: string }>();
    expect(build?.node_id).toBe(builder!.nodeId);
    const release = await cp.db('releases').where({ app_id: app.id, number: 1 }).first<{ image: string; config: { pinnedNode?: string } }>();
    // The release runs what the builder pushed, and is not pinned to the builder.
    expect(release?.image).toBe(build?.image);
    expect(release?.image.startsWith(`${registry.addr}/karvon/${app.id}:`)).toBe(true);
    expect(release?.config.pinnedNode).toBeUndefined();
    expect(await registry.catalog()).toContain(`karvon/${app.id}`);
    await serving(app.id, 1, 'built on one node, run on another');

    // Both agents share this machine's engine: drop the local tag, so the next replica's node has
    // to pull it from the registry. Spread places the second replica on the node without one.
    await docker.getImage(release.image).remove({ force: true, noprune: true });
    expect((await api().post(`/api/v1/apps/${app.id}/scale`, { replicas: 2 })).status).toBe(202);
    const list = await serving(app.id, 2, 'built on one node, run on another');
    const nodes = await cp.db('nodes').whereIn('id', [builder!.nodeId, runner!.nodeId]).select('id', 'liveness', 'admin_status');
    expect(new Set(list.map((i) => i.nodeId)), JSON.stringify({ list, nodes })).toEqual(new Set([builder!.nodeId, runner!.nodeId]));
    await docker.getImage(release.image).inspect(); // pulled back from the registry
  }, 180_000);
});
