// Hot reads (every GET of an app, its env, the lists) as named prepared statements on a connection
// of knex's own pool: PostgreSQL parses and plans each statement once per connection instead of on
// every call, and the request skips knex's query builder and runner. Only for fixed SQL texts
// written here with `$n` placeholders; everything else keeps going through knex.
//
// A prepared `select t.*` fixes its result columns: if another control plane migrates the schema
// (a column added) while this one runs, PostgreSQL refuses the statement ("cached plan must not
// change result type"). That name then runs unprepared for the rest of this process's life.
import type { Db } from '../db/connect';

interface PgConnection {
  query<Row>(config: { name?: string; text: string; values: readonly unknown[] }): Promise<{ rows: Row[] }>;
}

interface PoolClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<void>;
}

const unprepared = new Set<string>();

const resultTypeChanged = (err: unknown) => {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan');
};

/**
 * Runs `text` as the prepared statement `name`. One name must always carry the same text: pg keeps
 * the parsed statement per connection under its name.
 */
export async function preparedQuery<Row>(db: Db, name: string, text: string, values: readonly unknown[]): Promise<Row[]> {
  const client = db.client as unknown as PoolClient;
  const connection = await client.acquireConnection();
  try {
    if (unprepared.has(name)) return (await connection.query<Row>({ text, values })).rows;
    try {
      return (await connection.query<Row>({ name, text, values })).rows;
    } catch (err) {
      if (!resultTypeChanged(err)) throw err;
      unprepared.add(name);
      return (await connection.query<Row>({ text, values })).rows;
    }
  } finally {
    void client.releaseConnection(connection);
  }
}
