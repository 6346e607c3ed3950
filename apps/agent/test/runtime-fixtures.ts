// Shared by the runtime integration tests: images of the sample customer apps built offline
// (FROM the locally imported node image), exec inside a container, and cleanup by node label.
import path from 'node:path';
import type Docker from 'dockerode';
import type { DesiredAllocation } from '@karvon/protocol';
import { REPO_ROOT } from '../../../test/processes';
import { demuxDockerLogs } from '../../../test/docker/containers';
import { NODE_IMAGE } from '../../../test/docker/base-images';
import { tarStream } from '../../../test/docker/tar';

const APPS = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'apps');
export const FIXTURE_APPS = ['node-hello', 'slow-start', 'crash-loop'] as const;
export type FixtureApp = (typeof FIXTURE_APPS)[number];
export const imageOf = (app: FixtureApp) => `karvon-runtime-test/${app}:latest`;

/** `docker build` of each fixture app with a non-root USER, as a customer's Dockerfile would have it. */
export async function buildFixtureImages(docker: Docker): Promise<void> {
  for (const app of FIXTURE_APPS) {
    const dockerfile = [`FROM ${NODE_IMAGE}`, 'WORKDIR /app', 'COPY server.js package.json ./', 'USER 1000', 'CMD ["node", "server.js"]', ''].join('\n');
    const context = tarStream([
      { type: 'file', path: 'Dockerfile', content: dockerfile },
      { type: 'file', path: 'server.js', source: path.join(APPS, app, 'server.js') },
      { type: 'file', path: 'package.json', source: path.join(APPS, app, 'package.json') },
    ]);
    const stream = await docker.buildImage(context, { t: imageOf(app), labels: { 'karvon.test-image': 'runtime-fixture' } });
    const output = await new Promise<Array<{ error?: string }>>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, res: Array<{ error?: string }>) => (err ? reject(err) : resolve(res))),
    );
    const failed = output.find((o) => o.error);
    if (failed) throw new Error(`building ${app}: ${failed.error}`);
  }
}

/** Runs argv in a running container (as its user); returns exit code and combined output. */
export async function execIn(docker: Docker, containerId: string, cmd: string[], timeoutMs = 15_000): Promise<{ exitCode: number; output: string }> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`exec ${cmd.join(' ')} still running after ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  const { stdout, stderr } = demuxDockerLogs(Buffer.concat(chunks));
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, output: stdout + stderr };
}

/** Removes every container and network labelled with this node id (run in afterAll, also after failures). */
export async function removeNodeObjects(docker: Docker, nodeId: string): Promise<void> {
  const label = [`karvon.node=${nodeId}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  const networks = await docker.listNetworks({ filters: { label } });
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
}

/** A random 100-port window, so parallel test files (and agents) never share host ports. */
export function testPortRange(): { min: number; max: number } {
  const min = 21_000 + Math.floor(Math.random() * 78) * 100;
  return { min, max: min + 99 };
}

export function fixtureAllocation(id: string, app: FixtureApp, over: Partial<DesiredAllocation> = {}): DesiredAllocation {
  return {
    id,
    appId: 'app_web',
    tenantId: 'usr_a',
    releaseId: `rel_${id}`,
    releaseNumber: 1,
    image: imageOf(app),
    env: { GREETING: 'hi' },
    port: 3000,
    limits: { cpuMillicores: 500, memoryMb: 128 },
    healthCheck: { type: 'http', path: '/healthz', timeoutMs: 1_000 },
    desiredStatus: 'running',
    ...over,
  };
}

/** GET with a short timeout; the text, or the error message prefixed by `!`. */
export async function fetchText(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_500) });
    return await res.text();
  } catch (e) {
    return `!${(e as Error).message}`;
  }
}
