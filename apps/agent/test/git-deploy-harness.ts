// Pieces of the git-deploy end-to-end test (git-deploy.int.test.ts): real agent processes that
// build from the loopback git server, a loopback `docker-registry`, and signed generic pushes.
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type { ApiClient } from '../../../test/api-client';
import type { TestControlPlane } from '../../../test/control-plane';
import { freePort } from '../../../test/free-port';
import type { TestGitServer } from '../../../test/git/git-server';
import { startProcess, waitForHttp } from '../../../test/processes';
import { startRealAgent, type RealAgent } from './real-agent';

export type TestAgent = RealAgent;

/** Registers a node (with the token's labels) and runs its agent, trusting and allowing the git server. */
export function startAgent(cp: Pick<TestControlPlane, 'url'>, admin: ApiClient, git: TestGitServer, docker: Docker, region: string, name: string, labels: string[] = []): Promise<TestAgent> {
  return startRealAgent({ controlPlaneUrl: cp.url, admin, docker, region, name, labels, env: { KARVON_GIT_ALLOWED_HOSTS: git.hostPort, KARVON_GIT_CA_FILE: git.caFile } });
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
