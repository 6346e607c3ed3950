import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import { enqueueTasks } from '../dispatch/task-queue';

/** One gc task per node and UTC day: running the job again that day (any instance) adds nothing. */
export function gcIdempotencyKey(nodeId: string, now: Date): string {
  return `gc:${nodeId}:${now.toISOString().slice(0, 10)}`;
}

export interface ImageGcJobDeps {
  db: Db;
  logger: Logger;
  /** images of this many newest releases per app stay on each node (rollback needs them) */
  keepReleasesPerApp?: number;
  /** how often the job looks; the key makes it daily whatever this is */
  periodMs?: number;
  now?: () => Date;
}

/**
 * Asks every online node to remove old Karvon images once a day. A node offline all day is skipped
 * that day; a task not delivered within 6 hours times out rather than running late.
 */
export function createImageGcJob(deps: ImageGcJobDeps) {
  const now = deps.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;

  async function runOnce(): Promise<{ nodes: number; created: number }> {
    const at = now();
    const nodes = await deps.db('nodes').where({ liveness: 'online' }).whereNull('revoked_at').orderBy('id').select<Array<{ id: string }>>('id');
    const results = await enqueueTasks(
      deps.db,
      nodes.map((n) => ({
        nodeId: n.id,
        kind: 'gc' as const,
        payload: { targets: ['images' as const], keepReleasesPerApp: deps.keepReleasesPerApp ?? 3 },
        idempotencyKey: gcIdempotencyKey(n.id, at),
        deadline: new Date(at.getTime() + 6 * 3_600_000),
      })),
    );
    return { nodes: nodes.length, created: results.filter((r) => r.created).length };
  }

  return {
    runOnce,
    start() {
      const run = () => {
        runOnce().catch((err: unknown) => deps.logger.warn({ err }, 'image gc job failed'));
      };
      run();
      timer = setInterval(run, deps.periodMs ?? 3_600_000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
