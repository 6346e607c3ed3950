import type { Knex } from 'knex';
import { migrations } from '../../../../migrations/index';

// Any constant shared by every control plane; two processes starting at once serialize on it.
const MIGRATION_LOCK_KEY = 0x6b6172766f6e; // "karvon"

const source: Knex.MigrationSource<(typeof migrations)[number]> = {
  getMigrations: () => Promise.resolve([...migrations]),
  getMigrationName: (m) => m.name,
  getMigration: (m) => Promise.resolve({ up: (db: Knex) => m.up(db), down: () => Promise.reject(new Error('migrations are forward-only')) }),
};

/**
 * Brings the schema up to date. knex's own lock table makes a second runner fail rather than
 * wait, so the run happens while a transaction-scoped advisory lock is held on another connection:
 * a second control plane waits for it, then finds nothing left to do.
 */
export async function migrateToLatest(db: Knex): Promise<string[]> {
  return db.transaction(async (lock) => {
    await lock.raw('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    const [, applied] = (await db.migrate.latest({ migrationSource: source })) as [number, string[]];
    return applied;
  });
}
