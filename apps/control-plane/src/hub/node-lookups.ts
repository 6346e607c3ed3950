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

/**
 * Which node holds this credential (by its SHA-256), and is it revoked? Asked by every token
 * exchange (POST /agent/token); after a restart the whole fleet asks within seconds, and one
 * query per agent queued the pool's connections ahead of the upgrades and admissions of agents
 * already holding a token. A lone question goes at once; those arriving while one runs go together.
 */
export function createCredentialLookups(db: Db) {
  async function run(batch: readonly string[]): Promise<Array<NodeStanding | undefined>> {
    const hashes = [...new Set(batch)];
    const res = await db.raw<{ rows: Array<{ id: string; credential_hash: string; revoked: boolean }> }>(
      `select id, credential_hash, revoked_at is not null as revoked from nodes where credential_hash in (select json_array_elements_text(?::json))`,
      [JSON.stringify(hashes)],
    );
    const found = new Map(res.rows.map((r) => [r.credential_hash, { id: r.id, revoked: r.revoked }]));
    return batch.map((hash) => found.get(hash));
  }

  return createRequestBatcher<string, NodeStanding | undefined>({ maxBatch: MAX_BATCH, maxInFlight: MAX_IN_FLIGHT, run });
}
