import type { Frame } from '@karvon/protocol';
import type { Db } from '../db/connect';
import { capacityFromFacts } from '../nodes/capacity';
import { createRequestBatcher } from './request-batcher';

type Hello = Extract<Frame, { type: 'hello' }>['payload'];

/** Admissions per statement; a reconnecting fleet fills batches, a lone agent goes alone at once. */
const MAX_BATCH = 500;
/** Statements at once, each on its own pooled connection. */
const MAX_IN_FLIGHT = 2;
/** How long a hello waits for others to share its statement (a welcome this much later is nothing). */
const GATHER_MS = 20;

/**
 * Admits sessions in batches: after a control-plane restart the whole fleet says hello within
 * seconds, and one UPDATE per hello (a round trip, a transaction and the query building each) was
 * most of what re-admitting 10,000 agents cost. Hellos arriving within GATHER_MS of each other, and
 * those arriving while a batch is in flight, go together: ONE statement locks the batch's nodes in id
 * order (the planner's and the liveness flush's order, so none of them can deadlock another) and
 * bumps each node's session generation (no BEGIN/COMMIT round trips of a transaction block). A node appears at most once per batch, so two racing sessions of one node
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
    // ONE statement (its own transaction, one round trip): the CTE locks the batch's nodes in id
    // order (the planner's and the liveness flush's order, so none of them can deadlock another)
    // before the update touches any of them: the update only reaches rows the CTE has returned,
    // hence already locked. Read committed: a row another transaction changed meanwhile is updated
    // in its newest version, so racing admissions of one node still get distinct generations.
    const res = await db.raw<{ rows: Array<{ id: string; session_generation: string }> }>(
      `with v as (
         select * from json_to_recordset(?::json) as v(id text, facts jsonb, agent_version text, cpu int, mem int, disk int)
       ), locked as materialized (
         select n.id from nodes n where n.id in (select id from v) order by n.id for no key update
       )
       update nodes n set session_generation = n.session_generation + 1, liveness = 'online', last_heartbeat_at = now(),
         facts = v.facts, agent_version = v.agent_version, capacity_cpu_millicores = v.cpu, capacity_memory_mb = v.mem,
         capacity_disk_mb = v.disk, updated_at = now()
       from v
       where n.id = v.id and n.id in (select id from locked) and n.revoked_at is null
       returning n.id, n.session_generation`,
      [JSON.stringify(rows)],
    );
    const generations = new Map(res.rows.map((r) => [r.id, Number(r.session_generation)]));
    return batch.map((p) => generations.get(p.nodeId) ?? new Error('node revoked during admission'));
  }

  // A node at most once per batch: two racing sessions of one node get distinct generations.
  const admit = createRequestBatcher<Admission, number>({ maxBatch: MAX_BATCH, maxInFlight: MAX_IN_FLIGHT, key: (a) => a.nodeId, gatherMs: GATHER_MS, run });
  return {
    /** persists the admission (new session generation, liveness, facts, capacity); resolves with the generation */
    admit: (nodeId: string, hello: Hello): Promise<number> => admit({ nodeId, hello }),
  };
}
