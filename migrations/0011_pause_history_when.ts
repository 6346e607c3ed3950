import type { Knex } from 'knex';

// The pause-history trigger (0008_billing.ts) ran its PL/pgSQL function for every allocation
// inserted and every desired_status written, although it acts only when an allocation is created
// stopped or its desired status changes. A placement of 2,000 replicas paid 2,000 calls. WHEN
// clauses, evaluated without calling the function, now let only those rows through; what the
// function records is unchanged.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    drop trigger allocations_pause_history on allocations;
    create trigger allocations_pause_on_insert
      after insert on allocations
      for each row when (new.desired_status = 'stopped')
      execute function record_allocation_pause();
    create trigger allocations_pause_on_change
      after update of desired_status on allocations
      for each row when (old.desired_status is distinct from new.desired_status)
      execute function record_allocation_pause();
  `);
}
