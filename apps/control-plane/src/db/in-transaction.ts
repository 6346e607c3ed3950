// Runs `run` in the caller's transaction when it is given one, else in a new one: a function that
// needs its writes to be atomic, called both alone and as part of a larger change. No savepoint:
// no caller goes on after an error inside (the whole transaction rolls back), and a savepoint is
// two more round trips.
import type { Knex } from 'knex';
import type { Db } from './connect';

export function inTransaction<T>(db: Db | Knex.Transaction, run: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return 'isTransaction' in db && db.isTransaction ? run(db as Knex.Transaction) : (db as Db).transaction(run);
}
