// Routes and certificates are region-wide: every node of a region serves every hostname of the
// region's apps. A change to either (a domain verified or removed, a certificate issued or renewed)
// therefore bumps the desired-state generation of all the region's nodes and wakes them through
// NOTIFY at commit. Node rows are locked in id order, as the planner and allocation-changes.ts do,
// so these transactions never deadlock with theirs.
import type { Knex } from 'knex';
import type { Db } from '../db/connect';
import { inTransaction } from '../db/in-transaction';
import { notifyNodes } from '../dispatch/node-wakeups';

export async function bumpRegionNodes(db: Db | Knex.Transaction, regionId: string): Promise<string[]> {
  const run = async (trx: Knex.Transaction) => {
    const locked = await trx.raw<{ rows: Array<{ id: string }> }>(
      `select id from nodes where region_id = ? and revoked_at is null order by id for no key update`,
      [regionId],
    );
    const ids = locked.rows.map((r) => r.id);
    if (ids.length === 0) return ids;
    await trx('nodes').whereIn('id', ids).update({ desired_generation: trx.raw('desired_generation + 1'), updated_at: trx.fn.now() });
    await notifyNodes(trx, ids);
    return ids;
  };
  return inTransaction(db, run);
}
