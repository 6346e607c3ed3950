// The gc task: removes this node's Karvon images beyond the newest releases per app.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Task } from '@karvon/protocol';
import { ownedFilter } from '../runtime/labels';
import type { TaskHandler } from '../tasks/task-runner';
import { planImageGc } from './image-gc-plan';

/** A result stays far below the protocol's 64 KiB: lists are cut here and counted in full. */
const MAX_LISTED = 100;

export interface ImageGcResult {
  removed: Array<{ id: string; appId: string; releaseNumber?: number; build?: string; tags: readonly string[] }>;
  removedCount: number;
  /** old images kept because a container uses them */
  inUse: string[];
  /** removal refused by the engine (a container created meanwhile, a tag shared): left as it is */
  failed: Array<{ id: string; error: string }>;
  /** targets this agent has nothing to do for yet (containers are removed by the runtime; no build cache) */
  skippedTargets: string[];
}

export function createImageGc(deps: { docker: Docker; nodeId: string; logger: Logger }) {
  const { docker, nodeId } = deps;

  async function collectImages(keep: number): Promise<ImageGcResult> {
    // Every container on the engine counts, Karvon's or not, running or stopped.
    const [images, containers] = await Promise.all([
      docker.listImages({ all: false, filters: { label: ownedFilter(nodeId) } }),
      docker.listContainers({ all: true }),
    ]);
    const used = new Set(containers.map((c) => c.ImageID));
    const decision = planImageGc(
      images.map((i) => ({ id: i.Id, labels: i.Labels ?? undefined, tags: i.RepoTags ?? [], created: i.Created })),
      used,
      nodeId,
      keep,
    );
    const result: ImageGcResult = { removed: [], removedCount: 0, inUse: decision.inUse.slice(0, MAX_LISTED), failed: [], skippedTargets: [] };
    for (const candidate of decision.remove) {
      try {
        // Never forced: the engine itself refuses an image a container uses or another repo shares.
        await docker.getImage(candidate.id).remove({ force: false, noprune: false });
        result.removedCount += 1;
        if (result.removed.length < MAX_LISTED) result.removed.push(candidate);
      } catch (e) {
        if (result.failed.length < MAX_LISTED) result.failed.push({ id: candidate.id, error: (e as Error).message.slice(0, 200) });
      }
    }
    deps.logger.info({ removed: result.removedCount, inUse: decision.inUse.length, failed: result.failed.length }, 'image gc done');
    return result;
  }

  const handler: TaskHandler = async (task) => {
    const spec = (task as Task<'gc'>).payload;
    const result = spec.targets.includes('images')
      ? await collectImages(spec.keepReleasesPerApp)
      : { removed: [], removedCount: 0, inUse: [], failed: [], skippedTargets: [] };
    result.skippedTargets = spec.targets.filter((t) => t !== 'images');
    return result;
  };

  return { handler, collectImages };
}
