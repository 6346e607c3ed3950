import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { connectDatabase, type Db } from '../apps/control-plane/src/db/connect';
import { migrateToLatest } from '../apps/control-plane/src/db/migrate';

/**
 * A fresh, empty database on the test run's PostgreSQL, for one test file (or one control plane).
 * Returns its URL and a function that drops it.
 */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `karvon_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * A fresh database migrated to the latest schema, and a knex handle on it, for a test file that
 * talks to the database without a control plane. `close` ends the handle and drops the database.
 */
export async function createMigratedTestDatabase(): Promise<{ db: Db; url: string; close: () => Promise<void> }> {
  const t = await createTestDatabase();
  const db = connectDatabase(t.url);
  await migrateToLatest(db);
  return {
    db,
    url: t.url,
    close: async () => {
      await db.destroy();
      await t.drop();
    },
  };
}
