// Audit rows against real PostgreSQL: calls made together share statements, yet each call gets its
// own row, and a row that cannot be written fails its own call only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/connect';
import { writeAudit, type AuditEntry } from '../src/audit/audit-log';
import { createMigratedTestDatabase } from '../../../test/database';

let db: Db;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ db, close } = await createMigratedTestDatabase());
});
afterAll(async () => {
  await close?.();
});

const entry = (i: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  actorType: 'node',
  actorId: `nod_${i}`,
  action: 'node.token',
  target: `node:nod_${i}`,
  ip: '127.0.0.1',
  status: 200,
  requestId: `req-${i}`,
  ...extra,
});

describe('writeAudit', () => {
  it('writes one row per call, with every field, when many calls come together', async () => {
    const n = 300;
    await Promise.all(Array.from({ length: n }, (_, i) => writeAudit(db, entry(i, i % 7 === 0 ? { details: { i, quote: `"x'\\` } } : {}))));
    const rows = await db('audit_log').where({ action: 'node.token' }).orderBy('id').select<Array<Record<string, unknown>>>('actor_type', 'actor_id', 'target', 'ip', 'status', 'request_id', 'details');
    // Concurrent calls have no order among themselves: each has its row, once.
    const byActor = new Map(rows.map((r) => [r.actor_id as string, r]));
    expect(rows).toHaveLength(n);
    expect([...byActor.keys()].sort()).toEqual(Array.from({ length: n }, (_, i) => `nod_${i}`).sort());
    expect(byActor.get('nod_7')).toEqual({ actor_type: 'node', actor_id: 'nod_7', target: 'node:nod_7', ip: '127.0.0.1', status: 200, request_id: 'req-7', details: { i: 7, quote: `"x'\\` } });
    expect(byActor.get('nod_8')).toMatchObject({ details: null, status: 200 });
  });

  it('a row the table refuses fails its own call; the others are written', async () => {
    const calls = Array.from({ length: 50 }, (_, i) =>
      writeAudit(db, i === 20 ? entry(i, { action: 'bad.row', actorType: 'bogus' as AuditEntry['actorType'] }) : entry(i, { action: 'batch.mixed' })),
    );
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
    expect(outcomes[20]!.status).toBe('rejected');
    expect(await db('audit_log').where({ action: 'batch.mixed' }).count<Array<{ count: string }>>()).toEqual([{ count: '49' }]);
    expect(await db('audit_log').where({ action: 'bad.row' })).toHaveLength(0);
  });

  it('inside a transaction the row is the transaction\'s', async () => {
    await db
      .transaction(async (trx) => {
        await writeAudit(trx, entry(1, { action: 'in.trx' }));
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await db('audit_log').where({ action: 'in.trx' })).toHaveLength(0);
  });
});
