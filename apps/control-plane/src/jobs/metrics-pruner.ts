import type { Logger } from 'pino';
import type { Db } from '../db/connect';

/** Metrics tables pruned together: each keeps its points for the same retention. */
const METRICS_TABLES = ['node_metrics', 'allocation_metrics'] as const;

/**
 * Node and allocation metrics are kept 7 days; older points are deleted hourly (idempotent, any
 * instance). `prune` resolves with the number of points deleted over both tables.
 */
export function createMetricsPruner(deps: { db: Db; logger: Logger; retentionDays?: number; periodMs?: number }) {
  let timer: NodeJS.Timeout | undefined;
  const prune = async (): Promise<number> => {
    let deleted = 0;
    for (const table of METRICS_TABLES) {
      deleted += await deps.db(table)
        .where('at', '<', deps.db.raw(`now() - make_interval(days => ?)`, [deps.retentionDays ?? 7]))
        .delete();
    }
    return deleted;
  };
  return {
    prune,
    start() {
      const run = () => {
        prune().catch((err: unknown) => deps.logger.warn({ err }, 'metrics prune failed'));
      };
      run();
      timer = setInterval(run, deps.periodMs ?? 3600_000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
