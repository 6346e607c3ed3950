// Releases are immutable and numbered per app: what runs (image) and how (port, health check,
// plan resources, env as sealed values). A rollback copies an old release into a new number.
import type { HealthCheck } from '@karvon/protocol';
import type { Knex } from 'knex';
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';

export interface ReleaseConfig {
  port: number;
  healthCheck: HealthCheck;
  plan: { id: string; cpuMillicores: number; memoryMb: number; diskMb: number };
  /** name → sealed value (secrets/secret-box): the env as it was when the release was cut */
  env: Record<string, string>;
  /** the only node holding the image (built there, no registry): replicas are placed on it */
  pinnedNode?: string | undefined;
}

export interface ReleaseRow {
  id: string;
  app_id: string;
  number: number;
  image: string;
  commit_sha: string | null;
  config: ReleaseConfig;
  created_at: Date;
}

/** Cuts the next release; the caller holds the app row lock (`for update`), which orders numbers. */
export async function createRelease(trx: Knex.Transaction, appId: string, input: { image: string; commitSha?: string | null; config: ReleaseConfig }): Promise<ReleaseRow> {
  const res = await trx.raw<{ rows: ReleaseRow[] }>(
    `insert into releases (id, app_id, number, image, commit_sha, config)
     select ?, ?, coalesce(max(number), 0) + 1, ?, ?, ?::jsonb from releases where app_id = ?
     returning *`,
    [newId('rel'), appId, input.image, input.commitSha ?? null, JSON.stringify(input.config), appId],
  );
  return res.rows[0]!;
}

export async function getReleaseByNumber(db: Db | Knex.Transaction, appId: string, number: number): Promise<ReleaseRow> {
  const row = await db('releases').where({ app_id: appId, number }).first<ReleaseRow | undefined>();
  if (!row) throw new DomainError('NOT_FOUND', `release ${number} not found`);
  return row;
}

export async function getRelease(db: Db | Knex.Transaction, id: string): Promise<ReleaseRow | undefined> {
  return db('releases').where({ id }).first<ReleaseRow | undefined>();
}

export interface ReleaseView {
  number: number;
  image: string;
  commitSha: string | null;
  createdAt: string;
  current: boolean;
}

export async function listReleases(db: Db, appId: string, currentReleaseId: string | null, page: { limit: number; before?: number | undefined }) {
  const q = db('releases').where({ app_id: appId }).orderBy('number', 'desc').limit(page.limit + 1);
  if (page.before !== undefined) q.where('number', '<', page.before);
  const rows = await q.select<ReleaseRow[]>('*');
  const items: ReleaseView[] = rows.slice(0, page.limit).map((r) => ({
    number: r.number,
    image: r.image,
    commitSha: r.commit_sha,
    createdAt: r.created_at.toISOString(),
    current: r.id === currentReleaseId,
  }));
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > page.limit && last ? String(last.number) : null };
}
