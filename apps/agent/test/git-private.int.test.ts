// Private repositories through the real build task: a loopback HTTPS forge that requires basic
// auth (test/git/git-server.ts) and a loopback sshd serving the same repos to a deploy key
// (test/git/ssh-git-server.ts), real git and ssh, real Docker builds. The token and the private key
// must reach git and nothing else: not the messages, not the build log, not the build itself.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Task } from '@karvon/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, ensureBaseImages } from '../../../test/docker/base-images';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { startGitServer, type TestGitServer } from '../../../test/git/git-server';
import { startSshGitServer, type TestSshGitServer } from '../../../test/git/ssh-git-server';
import { generateSshKeyPair } from '../../control-plane/src/apps/ssh-key';
import { createBuildTask, type BuildResult } from '../src/build/build-task';
import { TaskFailure } from '../src/tasks/task-runner';

const run = randomUUID().slice(0, 8);
const nodeId = `node-gitpriv-${run}`;
const TOKEN = `glpat-${randomUUID().replace(/-/g, '')}`;
const USER = 'deploy-bot';
const basicOf = (user: string, token: string) => Buffer.from(`${user}:${token}`).toString('base64');

type BuildPayload = Task<'build'>['payload'];
type Auth = BuildPayload['source']['auth'];

await describeDocker('private git repositories', () => {
  let docker: Docker;
  let git: TestGitServer;
  let sshd: TestSshGitServer;
  let buildDir: string;
  let sha: string;
  let seq = 0;

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    git = await startGitServer({ basicAuth: { username: USER, password: TOKEN } });
    sshd = await startSshGitServer(git.reposDir);
    buildDir = await mkdtemp(path.join(tmpdir(), 'karvon-builds-private-'));
    // No RUN step: the build needs no container network. The image's config is checked for the token instead.
    sha = await git.commit('private', { files: { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY hello.txt /hello.txt\nLABEL karvon.test=private\n`, 'hello.txt': 'private hello\n' } });
  }, 120_000);

  afterAll(async () => {
    await sshd?.close();
    await git?.close();
    if (buildDir) await rm(buildDir, { recursive: true, force: true });
    if (docker) for (const img of await docker.listImages({ filters: { label: [`karvon.node=${nodeId}`] } })) await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
  });

  async function build(url: string, auth: Auth): Promise<{ result?: BuildResult; error?: TaskFailure; lines: string[] }> {
    const spec: BuildPayload = {
      buildId: `bld-${run}-${++seq}`,
      appId: 'app-private',
      tenantId: 'tnt-test',
      source: { url, commitSha: sha, branch: 'main', ...(auth ? { auth } : {}) },
      strategy: 'auto',
      image: `karvon-build-test/private-${run}:${seq}`,
      registry: null,
      limits: { cpuMillicores: 1000, memoryMb: 256, timeoutMs: 120_000 },
    };
    const lines: string[] = [];
    const handler = createBuildTask({ docker, nodeId, buildDir, gitAllowedHosts: [git.hostPort, sshd.hostPort], gitCaFile: git.caFile });
    const task = { id: `tsk-${spec.buildId}`, idempotencyKey: spec.buildId, kind: 'build', deadline: new Date(Date.now() + 600_000).toISOString(), attempt: 1, sessionGeneration: 1, payload: spec } as Task;
    try {
      return { result: (await handler(task, { progress: (l) => lines.push(...l), signal: new AbortController().signal })) as BuildResult, lines };
    } catch (e) {
      if (!(e instanceof TaskFailure)) throw e;
      return { error: e, lines };
    }
  }

  const expectNoSecret = (texts: string[], secrets: string[]) => {
    for (const t of texts) for (const s of secrets) expect(t.includes(s), `a credential leaked into: ${t.slice(0, 200)}`).toBe(false);
  };

  it('https with the right token: clones, builds, and neither the log nor the build environment shows the token', async () => {
    const { result, error, lines } = await build(git.url('private'), { type: 'token', username: USER, token: TOKEN });
    expect(error).toBeUndefined();
    expect(result?.commitSha).toBe(sha);
    expect(result?.knownHosts).toBeUndefined();
    expect(lines.join('\n')).toContain('COPY hello.txt');
    expectNoSecret(lines, [TOKEN, basicOf(USER, TOKEN)]);
    // Nothing of the credential went into the image (its env, labels, history).
    const image = await docker.getImage(result!.imageId).inspect();
    const history: unknown = await docker.getImage(result!.imageId).history();
    expectNoSecret([JSON.stringify(image), JSON.stringify(history)], [TOKEN, basicOf(USER, TOKEN)]);
    expect(await readdir(buildDir)).toEqual([]);
  }, 180_000);

  it('https with a wrong or missing token: CLONE_FAILED, and the message names no token', async () => {
    const wrong = `${TOKEN}x`;
    const before = git.refusedAuthorizations().length;
    const bad = await build(git.url('private'), { type: 'token', username: USER, token: wrong });
    expect(bad.error?.code).toBe('CLONE_FAILED');
    expect(bad.error?.message).toMatch(/git token/);
    expectNoSecret([bad.error!.message, ...bad.lines], [wrong, basicOf(USER, wrong)]);
    // It was offered in the Authorization header (not in the URL, which the server would show).
    expect(git.refusedAuthorizations().slice(before)).toContain(`Basic ${basicOf(USER, wrong)}`);
    const none = await build(git.url('private'), undefined);
    expect(none.error?.code).toBe('CLONE_FAILED');
    expect(await readdir(buildDir)).toEqual([]);
  }, 120_000);

  it('ssh with the deploy key: clones, learns the host key on first use, leaves no key file behind', async () => {
    const key = generateSshKeyPair('karvon-app-test');
    await sshd.authorize([key.publicKey]);
    const first = await build(sshd.url('private'), { type: 'ssh-key', privateKey: key.privateKey, knownHosts: '' });
    expect(first.error).toBeUndefined();
    expect(first.result?.commitSha).toBe(sha);
    expect(first.result?.knownHosts).toBe(`${sshd.knownHostsLine}\n`);
    const keyLines = key.privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    expectNoSecret(first.lines, keyLines);
    expect(await readdir(buildDir)).toEqual([]);
    // The next build is given what was learned, and checks it.
    const second = await build(sshd.url('private'), { type: 'ssh-key', privateKey: key.privateKey, knownHosts: first.result!.knownHosts! });
    expect(second.result?.knownHosts).toBe(`${sshd.knownHostsLine}\n`);
  }, 180_000);

  it('ssh: a rotated key the forge does not know, and a changed host key, each fail with CLONE_FAILED', async () => {
    const old = generateSshKeyPair('karvon-app-old');
    await sshd.authorize([old.publicKey]);
    const rotated = generateSshKeyPair('karvon-app-new');
    const refused = await build(sshd.url('private'), { type: 'ssh-key', privateKey: rotated.privateKey, knownHosts: '' });
    expect(refused.error?.code).toBe('CLONE_FAILED');
    expect(refused.error?.message).toMatch(/deploy key/);
    expectNoSecret([refused.error!.message, ...refused.lines], rotated.privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')));
    // Once the forge has the new key, it clones; and the old key (still listed) is not what is used.
    await sshd.authorize([rotated.publicKey]);
    const ok = await build(sshd.url('private'), { type: 'ssh-key', privateKey: rotated.privateKey, knownHosts: '' });
    expect(ok.error).toBeUndefined();
    const oldAfter = await build(sshd.url('private'), { type: 'ssh-key', privateKey: old.privateKey, knownHosts: '' });
    expect(oldAfter.error?.code).toBe('CLONE_FAILED');
    // A host key other than the one trusted before: ssh refuses to connect.
    const other = generateSshKeyPair('someone-else').publicKey.split(' ');
    const spoofed = await build(sshd.url('private'), { type: 'ssh-key', privateKey: rotated.privateKey, knownHosts: `[127.0.0.1]:${sshd.hostPort.split(':')[1]} ${other[0]} ${other[1]}\n` });
    expect(spoofed.error?.code).toBe('CLONE_FAILED');
    expect(spoofed.error?.message).toMatch(/host key/i);
    expect(await readdir(buildDir)).toEqual([]);
  }, 180_000);
});
