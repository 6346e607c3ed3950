// Pieces of the git-deploy end-to-end test (git-deploy.int.test.ts): real agent processes that
// build from the loopback git server, a loopback `docker-registry`, and signed generic pushes.
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type { ApiClient } from '../../../test/api-client';
import { registrationToken } from '../../../test/agents';
import type { TestControlPlane } from '../../../test/control-plane';
import { freePort } from '../../../test/free-port';
import type { TestGitServer } from '../../../test/git/git-server';
import { nodeBin, startProcess, waitForHttp, type RunningProcess } from '../../../test/processes';
import { removeNodeObjects, testPortRange } from './runtime-fixtures';

const bin = nodeBin('apps/agent/bin/karvon-agent.js');

export interface TestAgent {
  nodeId: string;
  proc: RunningProcess;
  stop(): Promise<void>;
}

/** Registers a node (with the token's labels) and runs its agent, trusting and allowing the git server. */
export async function startAgent(cp: TestControlPlane, admin: ApiClient, git: TestGitServer, docker: Docker, region: string, name: string, labels: string[] = []): Promise<TestAgent> {
  const stateDir = await mkdtemp(path.join(tmpdir(), `karvon-gitdeploy-${name}-`));
  const token = await registrationToken(admin, region, labels.length > 0 ? { labels } : {});
  const reg = startProcess(bin.file, [...bin.args, 'register', '--control-plane', cp.url, '--token', token, '--state-dir', stateDir, '--name', name], {});
  const code = await reg.exited;
  if (code !== 0) throw new Error(`register ${name}: ${code}\n${reg.output()}`);
  const nodeId = (JSON.parse(await readFile(path.join(stateDir, 'node.json'), 'utf8')) as { nodeId: string }).nodeId;
  const range = testPortRange();
  const proc = startProcess(bin.file, [...bin.args, 'run', '--state-dir', stateDir], {
    KARVON_LOG_LEVEL: 'info',
    KARVON_ADVERTISE_ADDR: '127.0.0.1',
    KARVON_PORT_RANGE: `${range.min}-${range.max}`,
    KARVON_DRAIN_SECONDS: '0',
    KARVON_GIT_ALLOWED_HOSTS: git.hostPort,
    KARVON_GIT_CA_FILE: git.caFile,
  });
  return {
    nodeId,
    proc,
    async stop() {
      proc.kill('SIGKILL');
      await proc.exited;
      await removeNodeObjects(docker, nodeId);
      // Built images carry their builder's node label; pulled copies are the same images.
      for (const img of await docker.listImages({ filters: { label: [`karvon.node=${nodeId}`] } })) {
        await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
      }
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

export interface TestRegistry {
  /** `127.0.0.1:<port>`, as the region's registry_url */
  addr: string;
  /** the repositories the registry holds */
  catalog(): Promise<string[]>;
  close(): Promise<void>;
}

/** `docker-registry` (Debian) on loopback with a throwaway storage dir; the engine treats 127.0.0.0/8 as insecure. */
export async function startRegistry(): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), 'karvon-gitdeploy-registry-'));
  const addr = `127.0.0.1:${await freePort()}`;
  const config = path.join(dir, 'config.yml');
  await writeFile(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: ${addr}\n`);
  const proc = startProcess('docker-registry', ['serve', config], {});
  await waitForHttp(`http://${addr}/v2/`, 15_000);
  return {
    addr,
    async catalog() {
      return ((await (await fetch(`http://${addr}/v2/_catalog`)).json()) as { repositories: string[] }).repositories;
    },
    async close() {
      proc.kill();
      await proc.exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Hook {
  /** `/hooks/generic/<hook id>` (the URL's host is the control plane's public URL) */
  path: string;
  secret: string;
}

/** The app's generic hook with a fresh secret (shown only by rotate). */
export async function appHook(api: ApiClient, appId: string): Promise<Hook> {
  const res = await api.post<{ url: string; secret: string }>(`/api/v1/apps/${appId}/webhook/rotate`);
  if (res.status !== 200) throw new Error(`webhook rotate: ${res.status} ${JSON.stringify(res.body)}`);
  return { path: new URL(res.body.url).pathname, secret: res.body.secret };
}

/** A signed generic push of `sha` to main, as a git host would send it; returns the status and body. */
export async function signedPush(baseUrl: string, hook: Hook, sha: string): Promise<{ status: number; body: { deployId?: string; ignored?: string } }> {
  const body = JSON.stringify({ ref: 'refs/heads/main', after: sha });
  const signature = createHmac('sha256', hook.secret).update(body).digest('hex');
  const res = await fetch(`${baseUrl}${hook.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-karvon-signature': `sha256=${signature}`, 'x-karvon-delivery': randomUUID() },
    body,
  });
  return { status: res.status, body: (await res.json()) as { deployId?: string; ignored?: string } };
}
