import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Db } from '../db/connect';
import { createTestDatabase } from '../../../../test/database';
import { preparedQuery } from './prepared-query';

let database: { url: string; drop(): Promise<void> };
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  // one connection: every call below reuses the statement prepared on it
  db = connectDatabase(database.url, { poolMax: 1 });
  await db.raw('create table things (id text primary key, n int not null)');
  await db('things').insert([{ id: 'a', n: 1 }, { id: 'b', n: 2 }]);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

describe('preparedQuery', () => {
  it('answers like the plain query, call after call, and inside a transaction', async () => {
    const text = 'select t.* from things t where t.n >= $1 order by t.id';
    expect(await preparedQuery(db, 'things_from', text, [1])).toEqual([{ id: 'a', n: 1 }, { id: 'b', n: 2 }]);
    expect(await preparedQuery(db, 'things_from', text, [2])).toEqual([{ id: 'b', n: 2 }]);
    const inTrx = await db.transaction(async (trx) => {
      await trx('things').insert({ id: 'c', n: 3 });
      return preparedQuery(trx, 'things_from', text, [3]);
    });
    expect(inTrx).toEqual([{ id: 'c', n: 3 }]);
    const prepared = await db.raw<{ rows: Array<{ name: string }> }>('select name from pg_prepared_statements');
    expect(prepared.rows.map((r) => r.name)).toContain('things_from');
  });

  it('keeps a statement first prepared inside a transaction that rolled back', async () => {
    const text = 'select count(*)::int as n from things where n > $1';
    await expect(
      db.transaction(async (trx) => {
        expect(await preparedQuery(trx, 'things_over', text, [0])).toHaveLength(1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await preparedQuery<{ n: number }>(db, 'things_over', text, [1])).toEqual([{ n: expect.any(Number) as number }]);
  });

  it('keeps answering after a migration changes the columns of a prepared select *', async () => {
    const text = 'select t.* from things t where t.id = $1';
    expect(await preparedQuery(db, 'thing_by_id', text, ['a'])).toEqual([{ id: 'a', n: 1 }]);
    await db.raw(`alter table things add column label text not null default 'x'`);
    expect(await preparedQuery(db, 'thing_by_id', text, ['a'])).toEqual([{ id: 'a', n: 1, label: 'x' }]);
    expect(await preparedQuery(db, 'thing_by_id', text, ['b'])).toEqual([{ id: 'b', n: 2, label: 'x' }]);
  });

  it('passes other errors through and leaves the connection usable', async () => {
    await expect(preparedQuery(db, 'bad_cast', 'select $1::int as n', ['nope'])).rejects.toMatchObject({ code: '22P02' });
    expect(await preparedQuery(db, 'good_cast', 'select $1::int as n', ['7'])).toEqual([{ n: 7 }]);
  });
});
