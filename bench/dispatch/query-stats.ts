// Diagnosis for the dispatch benchmarks: time per SQL statement on a knex pool (from the moment the
// statement is sent on its connection to its answer, so waiting for a pooled connection is not in it).
import type { Db } from '../../apps/control-plane/src/db/connect';

export interface QueryStats {
  /** statements are counted only while this returns true */
  print(label: string, log: (line: string) => void): void;
}

export function attachQueryStats(db: Db, enabled: () => boolean): QueryStats {
  const stats = new Map<string, { n: number; ms: number }>();
  const startedAt = new Map<string, number>();
  db.on('query', (q: { __knexQueryUid: string }) => startedAt.set(q.__knexQueryUid, performance.now()));
  const done = (q: { __knexQueryUid: string; sql: string }) => {
    const t = startedAt.get(q.__knexQueryUid);
    startedAt.delete(q.__knexQueryUid);
    if (t === undefined || !enabled()) return;
    const key = q.sql.replace(/\s+/g, ' ').slice(0, 70);
    const e = stats.get(key) ?? { n: 0, ms: 0 };
    e.n += 1;
    e.ms += performance.now() - t;
    stats.set(key, e);
  };
  db.on('query-response', (_r: unknown, q: { __knexQueryUid: string; sql: string }) => done(q));
  db.on('query-error', (_e: unknown, q: { __knexQueryUid: string; sql: string }) => done(q));
  return {
    print(label, log) {
      if (stats.size === 0) return;
      log(`${label}: SQL statements (count, total ms, mean ms), top 12 by total:`);
      for (const [sql, e] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
        log(`  ${String(e.n).padStart(7)} ${e.ms.toFixed(0).padStart(8)} ${(e.ms / e.n).toFixed(2).padStart(8)}  ${sql}`);
      }
      stats.clear();
    },
  };
}
