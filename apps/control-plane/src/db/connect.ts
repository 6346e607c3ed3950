import knex, { type Knex } from 'knex';
import pg from 'pg';

// bigint columns (money, generations) come back as strings by default; they stay well inside
// Number.MAX_SAFE_INTEGER for our use, and the code converts them explicitly where they are read.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export type Db = Knex;

export function connectDatabase(url: string, opts: { poolMax?: number } = {}): Db {
  return knex({
    client: 'pg',
    connection: { connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'karvon-control-plane' },
    pool: { min: 0, max: opts.poolMax ?? 10, acquireTimeoutMillis: 10_000 },
    acquireConnectionTimeout: 10_000,
  });
}
