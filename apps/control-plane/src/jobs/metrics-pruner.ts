import type { Logger } from 'pino';
import type { Db } from '../db/connect';

/** Node metrics are kept 7 days; older points are deleted hourly (idempotent, any instance). */
export function createMetricsPruner(deps: { db: Db; logger: Logger; retentionDays?: number; periodMs?: number }) {
  let timer: NodeJS.Timeout | undefined;
  const prune = async (): Promise<number> =>
    deps.db('node_metrics')
      .where('at', '<', deps.db.raw(`now() - make_interval(days => ?)`, [deps.retentionDays ?? 7]))
      .delete();
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
