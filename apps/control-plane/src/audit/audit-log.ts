import type { Db } from '../db/connect';
import { preparedQuery } from '../access/prepared-query';
import { createRequestBatcher } from '../hub/request-batcher';

export interface AuditEntry {
  actorType: 'user' | 'api-token' | 'node' | 'system' | 'anonymous';
  actorId: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  status?: number;
  requestId?: string;
  details?: Record<string, unknown>;
}

const COLUMNS = 'actor_type, actor_id, action, target, ip, status, request_id, details';
const INSERT = `insert into audit_log (${COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8)`;
// Rows keep the order of the calls (ids ascend in it): unnest yields the arrays' elements in order.
const INSERT_MANY =
  `insert into audit_log (${COLUMNS}) ` +
  `select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::jsonb[])`;

/** Rows written by one statement at most. */
const MAX_BATCH = 500;

type Row = [string, string | null, string, string | null, string | null, number | null, string | null, string | null];

const toRow = (e: AuditEntry): Row => [
  e.actorType,
  e.actorId,
  e.action,
  e.target,
  e.ip,
  e.status ?? null,
  e.requestId ?? null,
  e.details ? JSON.stringify(e.details) : null,
];

const insertOne = (db: Db, row: Row) => preparedQuery(db, 'audit_insert', INSERT, row);

/**
 * Rows of calls made while a statement runs go together in the next one: every token exchange of
 * a fleet re-admitted after a restart writes a row, and one commit per row was most of what it
 * cost. A lone call is written at once. If a shared statement fails, each of its rows is written
 * alone, so a row that cannot be written fails its own call only.
 */
async function insertBatch(db: Db, rows: readonly Row[]): Promise<ReadonlyArray<true | Error>> {
  if (rows.length === 1) {
    await insertOne(db, rows[0]!);
    return [true];
  }
  try {
    const columns = rows[0]!.map((_, i) => rows.map((r) => r[i]!));
    await preparedQuery(db, 'audit_insert_many', INSERT_MANY, columns);
    return rows.map(() => true as const);
  } catch {
    return Promise.all(
      rows.map((r) =>
        insertOne(db, r).then(
          () => true as const,
          (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
        ),
      ),
    );
  }
}

const writers = new WeakMap<Db, (row: Row) => Promise<true>>();

function writerFor(db: Db): (row: Row) => Promise<true> {
  let w = writers.get(db);
  if (!w) {
    w = createRequestBatcher<Row, true>({ maxBatch: MAX_BATCH, maxInFlight: 1, run: (rows) => insertBatch(db, rows) });
    writers.set(db, w);
  }
  return w;
}

/** One row per call, committed when this resolves; calls made together may share a statement. */
export async function writeAudit(db: Db, e: AuditEntry): Promise<void> {
  const row = toRow(e);
  // Inside a transaction the row belongs to it: written there, alone.
  if ('isTransaction' in db && db.isTransaction) await insertOne(db, row);
  else await writerFor(db)(row);
}
