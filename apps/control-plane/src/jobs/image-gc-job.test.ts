import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedTestDatabase } from '../../../../test/database';
import { createNodeFixture } from '../../../../test/fixtures';
import type { Db } from '../db/connect';
import { createImageGcJob, gcIdempotencyKey } from './image-gc-job';

let db: Db;
let close: (() => Promise<void>) | undefined;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  ({ db, close } = await createMigratedTestDatabase());
});

afterAll(async () => {
  await close?.();
});

describe('gcIdempotencyKey', () => {
  it('names the node and the UTC day', () => {
    expect(gcIdempotencyKey('node_1', new Date('2030-01-02T23:59:59.999Z'))).toBe('gc:node_1:2030-01-02');
    expect(gcIdempotencyKey('node_1', new Date('2030-01-03T00:00:00+01:00'))).toBe('gc:node_1:2030-01-02');
  });
});

describe('image gc job', () => {
  it('queues one gc task per online node per day; again the same day adds nothing, the next day does', async () => {
    const online = await createNodeFixture(db, 'gc-1', { cpuMillicores: 1000, memoryMb: 1024, diskMb: 1024 });
    const offline = await createNodeFixture(db, 'gc-1', { cpuMillicores: 1000, memoryMb: 1024, diskMb: 1024 });
    const revoked = await createNodeFixture(db, 'gc-1', { cpuMillicores: 1000, memoryMb: 1024, diskMb: 1024 });
    await db('nodes').where({ id: offline }).update({ liveness: 'offline' });
    await db('nodes').where({ id: revoked }).update({ revoked_at: db.fn.now() });
    let now = new Date('2030-01-02T10:00:00Z');
    const job = createImageGcJob({ db, logger, keepReleasesPerApp: 2, now: () => now });
    expect(await job.runOnce()).toEqual({ nodes: 1, created: 1 });
    expect(await job.runOnce()).toEqual({ nodes: 1, created: 0 });
    now = new Date('2030-01-03T00:30:00Z');
    expect(await job.runOnce()).toEqual({ nodes: 1, created: 1 });
    const rows = await db('tasks').where({ kind: 'gc' }).orderBy('idempotency_key').select<Array<{ node_id: string; idempotency_key: string; payload: unknown; state: string }>>();
    expect(rows.map((r) => [r.node_id, r.idempotency_key, r.state])).toEqual([
      [online, `gc:${online}:2030-01-02`, 'queued'],
      [online, `gc:${online}:2030-01-03`, 'queued'],
    ]);
    expect(rows[0]!.payload).toEqual({ targets: ['images'], keepReleasesPerApp: 2 });
  });

  it('does nothing, and fails nothing, without online nodes', async () => {
    await db('nodes').update({ liveness: 'offline' });
    const job = createImageGcJob({ db, logger, now: () => new Date('2030-02-01T00:00:00Z') });
    expect(await job.runOnce()).toEqual({ nodes: 0, created: 0 });
  });
});
