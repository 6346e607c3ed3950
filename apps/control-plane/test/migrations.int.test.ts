import { afterAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../src/db/connect';
import { migrateToLatest } from '../src/db/migrate';
import { migrations } from '../../../migrations/index';
import { createTestDatabase } from '../../../test/database';

describe('migrations', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('are safe when two control planes start at once: one applies, the other waits and finds nothing to do', async () => {
    const database = await createTestDatabase();
    const a = connectDatabase(database.url);
    const b = connectDatabase(database.url);
    cleanups.push(async () => {
      await a.destroy();
      await b.destroy();
      await database.drop();
    });
    const [ra, rb] = await Promise.all([migrateToLatest(a), migrateToLatest(b)]);
    expect([ra.length, rb.length].sort()).toEqual([0, migrations.length]);
    const tables = await a('pg_tables').where({ schemaname: 'public' }).pluck('tablename');
    for (const t of ['users', 'nodes', 'tasks', 'ledger_entries', 'audit_log', 'billing_periods', 'webhook_deliveries']) {
      expect(tables).toContain(t);
    }
    expect(await migrateToLatest(a)).toEqual([]);
  });
});
