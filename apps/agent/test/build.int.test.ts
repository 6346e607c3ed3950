// The build task against the real Docker engine and a loopback HTTPS git server (test/git): the
// fixtures build and answer, a failing build shows its failing lines, a slow one times out, a
// registry receives the image, and bad input is refused before anything is cloned or built.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Task } from '@karvon/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, NODE_IMAGE, ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { freePort } from '../../../test/free-port';
import { startGitServer, type TestGitServer } from '../../../test/git/git-server';
import { REPO_ROOT, startProcess, waitForHttp, type RunningProcess } from '../../../test/processes';
import { createBuildTask, type BuildResult } from '../src/build/build-task';
import { TaskFailure } from '../src/tasks/task-runner';

// shared/ sits beside the repository, here and in CI.
const fixturesDir = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'apps');
const run = randomUUID().slice(0, 8);
const nodeId = `node-build-${run}`;
const NODE_RUNTIME = { kind: 'node', version: '20', baseImage: NODE_IMAGE };
const STATIC_RUNTIME = { kind: 'static', version: '1', baseImage: BUSYBOX_IMAGE };

type BuildPayload = Task<'build'>['payload'];

await describeDocker('build task', () => {
  let docker: Docker;
  let git: TestGitServer;
  let buildDir: string;
  const sha: Record<string, string> = {};
  let seq = 0;

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    git = await startGitServer();
    buildDir = await mkdtemp(path.join(tmpdir(), 'karvon-builds-'));
    for (const name of ['node-hello', 'static-site', 'dockerfile-app']) sha[name] = await git.commit(name, { fromDir: path.join(fixturesDir, name) });
    sha.failing = await git.commit('failing', { files: { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN echo "compiling step-one" && echo "error: step-two is broken" >&2 && exit 7\n` } });
    sha.slow = await git.commit('slow', { files: { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN echo "starting a long step" && sleep 60\n` } });
    sha.empty = await git.commit('empty', { files: { 'README.md': '# nothing to build\n' } });
    sha['link-dockerfile'] = await git.commit('link-dockerfile', { files: { Dockerfile: { symlink: '/etc/passwd' }, 'index.html': 'x' } });
    sha['link-procfile'] = await git.commit('link-procfile', { fromDir: path.join(fixturesDir, 'node-hello'), files: { Procfile: { symlink: '../../../../etc/passwd' } } });
    sha['link-deep'] = await git.commit('link-deep', { files: { 'index.html': 'x', 'assets/secrets': { symlink: '../../home' } } });
    sha['node-hello-next'] = await git.commit('node-hello-next', { fromDir: path.join(fixturesDir, 'node-hello'), files: { 'next.txt': `a later commit ${run}\n` } });
  });

  afterAll(async () => {
    await git?.close();
    if (buildDir) await rm(buildDir, { recursive: true, force: true });
    if (docker) {
      for (const c of await docker.listContainers({ all: true, filters: { label: [`karvon.test.run=${run}`] } })) await docker.getContainer(c.Id).remove({ force: true });
      for (const img of await docker.listImages({ filters: { label: [`karvon.node=${nodeId}`] } })) await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
    }
  });

  function payload(repo: string, over: Omit<Partial<BuildPayload>, 'source'> & { source?: Partial<BuildPayload['source']> } = {}): BuildPayload {
    const { source, ...rest } = over;
    return {
      buildId: `bld-${run}-${seq}`,
      appId: `app-${repo}`,
      tenantId: 'tnt-test',
      source: { url: git.url(repo), commitSha: sha[repo], branch: 'main', ...source },
      strategy: 'auto',
      image: `karvon-build-test/${repo}-${run}:${++seq}`,
      registry: null,
      limits: { cpuMillicores: 1000, memoryMb: 512, timeoutMs: 120_000 },
      ...rest,
    };
  }

  async function build(spec: BuildPayload, allowed: readonly string[] = [git.hostPort]): Promise<{ result?: BuildResult; error?: TaskFailure; lines: string[] }> {
    const lines: string[] = [];
    const handler = createBuildTask({ docker, nodeId, buildDir, gitAllowedHosts: allowed, gitCaFile: git.caFile });
    const task = { id: `tsk-${spec.buildId}`, idempotencyKey: spec.buildId, kind: 'build', deadline: new Date(Date.now() + 600_000).toISOString(), attempt: 1, sessionGeneration: 1, payload: spec } as Task;
    try {
      const result = (await handler(task, { progress: (l) => lines.push(...l), signal: new AbortController().signal })) as BuildResult;
      return { result, lines };
    } catch (e) {
      if (!(e instanceof TaskFailure)) throw e;
      return { error: e, lines };
    }
  }

  /** Runs the image briefly and fetches `/` from it over the bridge network. */
  async function answer(image: string): Promise<string> {
    const container = await docker.createContainer({ Image: image, Env: ['PORT=8080'], Labels: { 'karvon.test.run': run } });
    try {
      await container.start();
      const ip = Object.values((await container.inspect()).NetworkSettings.Networks)[0]?.IPAddress;
      await waitForHttp(`http://${ip}:8080/`, 20_000);
      return await (await fetch(`http://${ip}:8080/`)).text();
    } finally {
      await container.remove({ force: true });
    }
  }

  it('builds node-hello with the Node buildpack; the image runs as uid 1000 and answers', async () => {
    const { result, error, lines } = await build(payload('node-hello', { runtime: NODE_RUNTIME }));
    expect(error, lines.join('\n')).toBeUndefined();
    expect(result).toMatchObject({ commitSha: sha['node-hello'], buildpack: 'node', imageId: expect.stringMatching(/^sha256:/) as unknown });
    for (const phase of ['-----> clone', '-----> detect', '-----> build']) expect(lines).toContain(phase);
    const info = await docker.getImage(result!.image).inspect();
    expect(info.Config.User).toBe('1000:1000');
    expect(info.Config.Labels).toMatchObject({ 'karvon.managed': 'true', 'karvon.node': nodeId, 'karvon.app': 'app-node-hello', 'karvon.built': 'true' });
    expect(JSON.parse(await answer(result!.image))).toMatchObject({ greeting: 'hello from karvon', uid: 1000 });
    expect(await readdir(buildDir)).toEqual([]); // the workdir is gone
  });

  it('labels the image in a step the cache answers for the next commit of the app, before the code is copied', async () => {
    const first = await build(payload('node-hello', { runtime: NODE_RUNTIME }));
    expect(first.error, first.lines.join('\n')).toBeUndefined();
    const next = await build(payload('node-hello-next', { runtime: NODE_RUNTIME, appId: 'app-node-hello' }));
    expect(next.error, next.lines.join('\n')).toBeUndefined();
    const step = (lines: string[], instruction: string) => {
      const at = lines.findIndex((l) => new RegExp(`^Step \\d+/\\d+ : ${instruction} `).test(l));
      expect(at, lines.join('\n')).toBeGreaterThanOrEqual(0);
      return { title: lines[at]!, cached: lines[at + 1]?.includes('Using cache') ?? false };
    };
    expect(step(next.lines, 'LABEL')).toEqual({ title: expect.stringMatching(/^Step 2\//) as unknown, cached: true });
    expect(step(next.lines, 'COPY').cached).toBe(false);
    expect((await docker.getImage(next.result!.image).inspect()).Config.Labels).toMatchObject({ 'karvon.app': 'app-node-hello', 'karvon.built': 'true' });
  });

  it('builds static-site with the static buildpack and serves index.html', async () => {
    const { result, error, lines } = await build(payload('static-site', { runtime: STATIC_RUNTIME }));
    expect(error, lines.join('\n')).toBeUndefined();
    expect(result?.buildpack).toBe('static');
    expect(await answer(result!.image)).toContain('static site served by karvon');
  });

  it('builds dockerfile-app from its own Dockerfile, and a branch head when no commit is given', async () => {
    const { result, error, lines } = await build(payload('dockerfile-app', { source: { commitSha: undefined, branch: 'main' } }));
    expect(error, lines.join('\n')).toBeUndefined();
    expect(result).toMatchObject({ buildpack: 'dockerfile', commitSha: sha['dockerfile-app'] });
    expect(await answer(result!.image)).toBe('dockerfile app\n');
  });

  it('reports BUILD_FAILED with the failing lines', async () => {
    const { error, lines } = await build(payload('failing'));
    expect(error?.code).toBe('BUILD_FAILED');
    expect(error?.message).toContain('error: step-two is broken');
    expect(error?.message).toMatch(/returned a non-zero code: 7/);
    expect(lines.join('\n')).toContain('compiling step-one');
    expect(await readdir(buildDir)).toEqual([]);
  });

  it('stops a build at its timeout with BUILD_TIMEOUT', async () => {
    const started = Date.now();
    const { error } = await build(payload('slow', { limits: { cpuMillicores: 500, memoryMb: 256, timeoutMs: 6_000 } }));
    expect(error?.code).toBe('BUILD_TIMEOUT');
    expect(error?.message).toContain('starting a long step');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('reports NO_BUILDPACK with what to add', async () => {
    const { error } = await build(payload('empty'));
    expect(error?.code).toBe('NO_BUILDPACK');
    expect(error?.message).toMatch(/add a Dockerfile, or one of: package\.json/);
  });

  it('refuses symlinks out of the repository (Dockerfile, Procfile, anything in the context) with UNSAFE_SOURCE', async () => {
    for (const repo of ['link-dockerfile', 'link-procfile', 'link-deep']) {
      const { error } = await build(payload(repo, { runtime: repo === 'link-procfile' ? NODE_RUNTIME : STATIC_RUNTIME }));
      expect(error?.code, repo).toBe('UNSAFE_SOURCE');
      expect(error?.message).toMatch(/outside the repository/);
    }
    expect(await docker.listImages({ filters: { reference: ['karvon-build-test/link-*'] } })).toEqual([]);
  });

  it('refuses bad git input before anything is fetched or written', async () => {
    const before = git.requests();
    const url = git.url('node-hello');
    const cases: Array<[string, Partial<BuildPayload['source']>, (readonly string[])?]> = [
      ['option injection', { url: '--upload-pack=touch /tmp/pwned' }],
      ['ssh option injection', { url: 'ssh://-oProxyCommand=touch%20/tmp/pwned/x' }],
      ['file://', { url: 'file:///etc' }],
      ['local path', { url: '/srv/git/repo.git' }],
      ['ext::', { url: 'ext::sh -c touch% /tmp/pwned' }],
      ['git://', { url: `git://${git.hostPort}/node-hello.git` }],
      ['loopback not allowed', { url }, []],
      ['name resolving to loopback', { url: url.replace('127.0.0.1', 'localhost') }, []],
      ['bad branch ..', { branch: 'main..evil', commitSha: undefined }],
      ['branch as option', { branch: '-main', commitSha: undefined }],
      ['branch with @{', { branch: 'a@{1}', commitSha: undefined }],
      ['short sha', { commitSha: 'abc123' }],
    ];
    for (const [name, source, allowed] of cases) {
      const { error } = await build(payload('node-hello', { source }), allowed);
      expect(error?.code, name).toBe('UNSAFE_SOURCE');
    }
    expect(git.requests()).toBe(before);
    expect(await readdir(buildDir)).toEqual([]);
  });

  it('reports CLONE_FAILED for a commit the server does not have', async () => {
    const { error } = await build(payload('node-hello', { source: { commitSha: 'e'.repeat(40) } }));
    expect(error?.code).toBe('CLONE_FAILED');
    expect(error?.message).toContain(git.url('node-hello'));
  });

  describeRegistry();

  function describeRegistry(): void {
    let registry: RunningProcess | undefined;
    let registryAddr = '';
    let registryDir = '';
    beforeAll(async () => {
      registryDir = await mkdtemp(path.join(tmpdir(), 'karvon-registry-'));
      const port = await freePort();
      registryAddr = `127.0.0.1:${port}`;
      const config = path.join(registryDir, 'config.yml');
      await writeFile(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${registryDir}/data\nhttp:\n  addr: ${registryAddr}\n`);
      registry = startProcess('docker-registry', ['serve', config], {});
      await waitForHttp(`http://${registryAddr}/v2/`, 15_000);
    });
    afterAll(async () => {
      registry?.kill();
      await registry?.exited;
      if (registryDir) await rm(registryDir, { recursive: true, force: true });
    });

    it('pushes the image to the registry when the spec names one', async () => {
      // The static site (busybox base, 2 MB) keeps the push quick; the Node image is 120 MB.
      const { result, error, lines } = await build(payload('static-site', { runtime: STATIC_RUNTIME, registry: registryAddr }));
      expect(error, lines.join('\n')).toBeUndefined();
      expect(result?.image).toMatch(new RegExp(`^${registryAddr.replace(/\./g, '\\.')}/karvon-build-test/static-site-${run}:\\d+$`));
      expect(lines).toContain('-----> push');
      const catalog = (await (await fetch(`http://${registryAddr}/v2/_catalog`)).json()) as { repositories: string[] };
      expect(catalog.repositories).toContain(`karvon-build-test/static-site-${run}`);
      const tags = (await (await fetch(`http://${registryAddr}/v2/karvon-build-test/static-site-${run}/tags/list`)).json()) as { tags: string[] };
      expect(tags.tags).toEqual([result?.image.split(':').at(-1)]);
    });

    it('reports PUSH_FAILED when the registry does not answer', async () => {
      const { error } = await build(payload('static-site', { runtime: STATIC_RUNTIME, registry: `127.0.0.1:${await freePort()}` }));
      expect(error?.code).toBe('PUSH_FAILED');
      expect(error?.message).toMatch(/check that the registry is running/);
    });
  }
});
