// Docker smoke test: the engine answers, the locally made base images run, and logs come back
// demultiplexed. Skipped without an engine; fails instead when KARVON_REQUIRE_DOCKER=1.
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, NODE_IMAGE, ensureBaseImages } from '../../../test/docker/base-images';
import { removeContainersByLabel, runContainer } from '../../../test/docker/containers';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';

const run = randomUUID();
const Labels = { 'karvon.test': '1', 'karvon.test.run': run };

await describeDocker('docker smoke', () => {
  let docker: Docker;

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
  });

  afterAll(async () => {
    // runContainer removes its own container; this catches anything left by a crash mid-test.
    if (docker) await removeContainersByLabel(docker, { 'karvon.test.run': run });
  });

  it('runs busybox echo and reads its logs', async () => {
    const result = await runContainer(docker, { Image: BUSYBOX_IMAGE, Cmd: ['echo', 'hello-karvon'], Labels });
    expect(result).toEqual({ statusCode: 0, stdout: 'hello-karvon\n', stderr: '' });
  });

  it('runs node with stdout and stderr kept apart', async () => {
    const result = await runContainer(docker, {
      Image: NODE_IMAGE,
      Cmd: ['node', '-e', 'console.log([1, 2, 3, 4, 5].reduce((a, b) => a * b, 1) + 2); console.error(process.version)'],
      Labels,
    });
    expect(result).toEqual({ statusCode: 0, stdout: '122\n', stderr: `${process.version}\n` });
  });

  it('has a working npm and the node user in the node image', async () => {
    const result = await runContainer(docker, {
      Image: NODE_IMAGE,
      User: 'node',
      Cmd: ['sh', '-c', 'npm --version && id -u && echo "$HOME" && touch /tmp/ok'],
      Labels,
    });
    expect(result.stderr).toBe('');
    expect(result.statusCode).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n1000\n\/home\/node\n$/);
  });

  it('reports a non-zero exit and removes the container', async () => {
    const result = await runContainer(docker, { Image: BUSYBOX_IMAGE, Cmd: ['sh', '-c', 'echo boom >&2; exit 3'], Labels });
    expect(result).toEqual({ statusCode: 3, stdout: '', stderr: 'boom\n' });
    expect(await docker.listContainers({ all: true, filters: { label: [`karvon.test.run=${run}`] } })).toEqual([]);
  });
});
