import type { Db } from '../db/connect';

export interface NodeStanding {
  id: string;
  revoked: boolean;
}

interface Pending {
  id: string;
  resolve(node: NodeStanding | undefined): void;
  reject(err: Error): void;
}

const MAX_BATCH = 1000;
const MAX_IN_FLIGHT = 2;

/**
 * Does this node exist, and is it revoked? Asked by every agent upgrade; after a control-plane
 * restart the whole fleet asks within seconds, so the questions that arrive while one query runs
 * go together in the next (one statement, not one round trip and query build per agent).
 */
export function createNodeLookups(db: Db) {
  let queue: Pending[] = [];
  let inFlight = 0;

  function pump(): void {
    while (inFlight < MAX_IN_FLIGHT && queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      inFlight += 1;
      run(batch)
        .catch((err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          for (const p of batch) p.reject(e);
        })
        .finally(() => {
          inFlight -= 1;
          pump();
        });
    }
  }

  async function run(batch: Pending[]): Promise<void> {
    const ids = [...new Set(batch.map((p) => p.id))];
    const res = await db.raw<{ rows: Array<{ id: string; revoked: boolean }> }>(
      `select id, revoked_at is not null as revoked from nodes where id in (select json_array_elements_text(?::json))`,
      [JSON.stringify(ids)],
    );
    const found = new Map(res.rows.map((r) => [r.id, { id: r.id, revoked: r.revoked }]));
    for (const p of batch) p.resolve(found.get(p.id));
  }

  return {
    standing(id: string): Promise<NodeStanding | undefined> {
      return new Promise((resolve, reject) => {
        queue.push({ id, resolve, reject });
        pump();
      });
    },
  };
}

export type NodeLookups = ReturnType<typeof createNodeLookups>;
