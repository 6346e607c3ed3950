import type { Frame } from '@karvon/protocol';
import type { Db } from '../db/connect';
import { capacityFromFacts } from '../nodes/capacity';
import { createRequestBatcher } from './request-batcher';

type Hello = Extract<Frame, { type: 'hello' }>['payload'];

/** Admissions per statement; a reconnecting fleet fills batches, a lone agent goes alone at once. */
const MAX_BATCH = 500;
/** Statements at once, each on its own pooled connection. */
const MAX_IN_FLIGHT = 2;

/**
 * Admits sessions in batches: after a control-plane restart the whole fleet says hello within
 * seconds, and one UPDATE per hello (a round trip, a transaction and the query building each) was
 * most of what re-admitting 10,000 agents cost. Hellos arriving while a batch is in flight wait and
 * go together in the next one: ONE transaction locks the batch's nodes in id order (the planner's
 * and the liveness flush's order, so none of them can deadlock another) and bumps each node's
 * session generation. A node appears at most once per batch, so two racing sessions of one node
 * still get distinct generations (the later one wins, as before).
 */
export function createAdmissions(db: Db) {
  interface Admission {
    nodeId: string;
    hello: Hello;
  }

  async function run(batch: readonly Admission[]): Promise<Array<number | Error>> {
    const rows = batch.map((p) => {
      const capacity = capacityFromFacts(p.hello.facts);
      return {
        id: p.nodeId,
        facts: p.hello.facts,
        agent_version: p.hello.agentVersion,
        cpu: capacity.cpuMillicores,
        mem: capacity.memoryMb,
        disk: capacity.diskMb,
      };
    });
    const ids = rows.map((r) => r.id).sort();
    const generations = await db.transaction(async (trx) => {
      await trx.raw('select id from nodes where id = any(?) order by id for update', [ids]);
      const res = await trx.raw<{ rows: Array<{ id: string; session_generation: string }> }>(
        `update nodes n set session_generation = n.session_generation + 1, liveness = 'online', last_heartbeat_at = now(),
           facts = v.facts, agent_version = v.agent_version, capacity_cpu_millicores = v.cpu, capacity_memory_mb = v.mem,
           capacity_disk_mb = v.disk, updated_at = now()
         from json_to_recordset(?::json) as v(id text, facts jsonb, agent_version text, cpu int, mem int, disk int)
         where n.id = v.id and n.revoked_at is null
         returning n.id, n.session_generation`,
        [JSON.stringify(rows)],
      );
      return new Map(res.rows.map((r) => [r.id, Number(r.session_generation)]));
    });
    return batch.map((p) => generations.get(p.nodeId) ?? new Error('node revoked during admission'));
  }

  // A node at most once per batch: two racing sessions of one node get distinct generations.
  const admit = createRequestBatcher<Admission, number>({ maxBatch: MAX_BATCH, maxInFlight: MAX_IN_FLIGHT, key: (a) => a.nodeId, run });
  return {
    /** persists the admission (new session generation, liveness, facts, capacity); resolves with the generation */
    admit: (nodeId: string, hello: Hello): Promise<number> => admit({ nodeId, hello }),
  };
}
