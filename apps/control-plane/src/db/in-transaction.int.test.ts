import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../test/database';
import { connectDatabase, type Db } from './connect';
import { inTransaction } from './in-transaction';

let database: { url: string; drop(): Promise<void> };
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = connectDatabase(database.url);
  await db.raw('create table probe (v text not null)');
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const pid = async (q: Db | Knex.Transaction) => (await q.raw<{ rows: Array<{ pid: number }> }>('select pg_backend_pid() as pid')).rows[0]!.pid;
const values = async () => (await db('probe').orderBy('v').select<Array<{ v: string }>>('v')).map((r) => r.v);

describe('inTransaction', () => {
  it("joins the caller's transaction, without a savepoint: its writes roll back with the caller's", async () => {
    await expect(
      db.transaction(async (outer) => {
        await outer('probe').insert({ v: 'outer' });
        const inner = await inTransaction(outer, async (trx) => {
          await trx('probe').insert({ v: 'inner' });
          return pid(trx);
        });
        expect(inner).toBe(await pid(outer));
        throw new Error('the caller fails after');
      }),
    ).rejects.toThrow('the caller fails after');
    expect(await values()).toEqual([]);
    // No savepoint: a statement that fails inside aborts the caller's transaction itself.
    await expect(
      db.transaction(async (outer) => {
        await inTransaction(outer, (trx) => trx.raw('select * from no_such_table')).catch(() => undefined);
        await outer('probe').insert({ v: 'after' });
      }),
    ).rejects.toMatchObject({ code: '25P02' });
    expect(await values()).toEqual([]);
  });

  it('opens its own transaction when given the pool: all or nothing', async () => {
    await expect(
      inTransaction(db, async (trx) => {
        await trx('probe').insert({ v: 'alone' });
        throw new Error('fails inside');
      }),
    ).rejects.toThrow('fails inside');
    expect(await values()).toEqual([]);
    await inTransaction(db, (trx) => trx('probe').insert({ v: 'kept' }));
    expect(await values()).toEqual(['kept']);
  });
});
