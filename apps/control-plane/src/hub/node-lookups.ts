import type { Db } from '../db/connect';
import { createRequestBatcher } from './request-batcher';

export interface NodeStanding {
  id: string;
  revoked: boolean;
}

const MAX_BATCH = 1000;
const MAX_IN_FLIGHT = 2;
/** How long an upgrade waits for others to share its lookup (the handshake is this much later). */
const GATHER_MS = 20;

/**
 * Does this node exist, and is it revoked? Asked by every agent upgrade; after a control-plane
 * restart the whole fleet asks within seconds, so the questions arriving within GATHER_MS of each
 * other, and those that arrive while one query runs, go together (one statement, not one round trip
 * and query build per agent).
 */
export function createNodeLookups(db: Db) {
  async function run(batch: readonly string[]): Promise<Array<NodeStanding | undefined>> {
    const ids = [...new Set(batch)];
    const res = await db.raw<{ rows: Array<{ id: string; revoked: boolean }> }>(
      `select id, revoked_at is not null as revoked from nodes where id in (select json_array_elements_text(?::json))`,
      [JSON.stringify(ids)],
    );
    const found = new Map(res.rows.map((r) => [r.id, { id: r.id, revoked: r.revoked }]));
    return batch.map((id) => found.get(id));
  }

  const standing = createRequestBatcher<string, NodeStanding | undefined>({ maxBatch: MAX_BATCH, maxInFlight: MAX_IN_FLIGHT, gatherMs: GATHER_MS, run });
  return { standing };
}

export type NodeLookups = ReturnType<typeof createNodeLookups>;
