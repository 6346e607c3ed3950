// The gc task against the real engine: images made here (FROM the locally imported busybox, no
// registry), labelled like a node's release images; only old, unused, own images go.
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Task } from '@karvon/protocol';
import { BUSYBOX_IMAGE, ensureBaseImages } from '../../../test/docker/base-images';
import { removeContainersByLabel } from '../../../test/docker/containers';
import { describeDocker, dockerForTests } from '../../../test/docker/engine';
import { tarStream } from '../../../test/docker/tar';
import { createImageGc } from '../src/gc/image-gc';

const RUN = randomUUID().slice(0, 8);
const NODE = `node_gc_${RUN}`;
const RUN_LABEL = { 'karvon.test-run': RUN };

await describeDocker('image gc', () => {
  let docker: Docker;
  const ids: Record<string, string> = {};

  /** Builds a one-layer-free image FROM busybox with these labels; returns its id. */
  async function makeImage(name: string, labels: Record<string, string>): Promise<string> {
    const tag = `karvon-gc-test-${RUN}/${name}:latest`;
    const context = tarStream([{ type: 'file', path: 'Dockerfile', content: `FROM ${BUSYBOX_IMAGE}\n` }]);
    const stream = await docker.buildImage(context, { t: tag, labels: { ...labels, ...RUN_LABEL, 'karvon.test-image-name': name } });
    await new Promise((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))));
    return (await docker.getImage(tag).inspect()).Id;
  }
  const release = (app: string, n: number, node = NODE) => ({ 'karvon.managed': 'true', 'karvon.node': node, 'karvon.app': app, 'karvon.release-number': String(n) });
  const exists = async (id: string) => docker.getImage(id).inspect().then(() => true, () => false);
  const gcTask = (payload: Task<'gc'>['payload']): Task => ({ id: `task_${RUN}`, idempotencyKey: `gc:${RUN}`, kind: 'gc', payload, deadline: new Date(Date.now() + 60_000).toISOString(), attempt: 1, sessionGeneration: 1 });
  const run = (payload: Task<'gc'>['payload']) =>
    createImageGc({ docker, nodeId: NODE, logger: pino({ level: 'silent' }) }).handler(gcTask(payload), { progress: () => undefined, signal: new AbortController().signal });

  beforeAll(async () => {
    docker = await dockerForTests();
    await ensureBaseImages(docker);
    ids.a1 = await makeImage('a1', release('app_a', 1));
    ids.a2 = await makeImage('a2', release('app_a', 2));
    ids.a3 = await makeImage('a3', release('app_a', 3));
    ids.b4 = await makeImage('b4', release('app_b', 4));
    ids.b5 = await makeImage('b5', release('app_b', 5));
    ids.plain = await makeImage('plain', {});
    ids.otherNode = await makeImage('other', release('app_a', 0, 'node_someone_else'));
    // A stopped container that is not Karvon's uses a1; a running one uses b4.
    await docker.createContainer({ Image: ids.a1, Cmd: ['true'], Labels: RUN_LABEL });
    const running = await docker.createContainer({ Image: ids.b4, Cmd: ['sleep', '60'], Labels: RUN_LABEL });
    await running.start();
  });

  afterAll(async () => {
    if (!docker) return;
    await removeContainersByLabel(docker, RUN_LABEL);
    for (const id of Object.values(ids)) await docker.getImage(id).remove({ force: true }).catch(() => undefined);
  });

  it('does nothing for targets it has no work for', async () => {
    expect(await run({ targets: ['build-cache'], keepReleasesPerApp: 0 })).toEqual({ removed: [], removedCount: 0, inUse: [], failed: [], skippedTargets: ['build-cache'] });
    for (const id of Object.values(ids)) expect(await exists(id)).toBe(true);
  });

  it('removes old releases beyond the newest N per app, never an image in use, unlabelled or of another node', async () => {
    const result = await run({ targets: ['images', 'containers'], keepReleasesPerApp: 1 });
    expect(result).toMatchObject({ removedCount: 1, failed: [], skippedTargets: ['containers'] });
    expect((result as { removed: Array<{ id: string; appId: string; releaseNumber: number }> }).removed).toEqual([
      expect.objectContaining({ id: ids.a2, appId: 'app_a', releaseNumber: 2 }),
    ]);
    expect([...(result as { inUse: string[] }).inUse].sort()).toEqual([ids.a1, ids.b4].sort());
    expect(await exists(ids.a2!)).toBe(false);
    for (const k of ['a1', 'a3', 'b4', 'b5', 'plain', 'otherNode']) expect(await exists(ids[k]!), k).toBe(true);
    // Again: nothing left to do.
    expect(await run({ targets: ['images'], keepReleasesPerApp: 1 })).toMatchObject({ removedCount: 0 });
  });
});
