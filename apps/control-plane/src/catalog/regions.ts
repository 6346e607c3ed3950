import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';

export interface Region {
  id: string;
  name: string;
}

/** What admins see: where the region's nodes push and pull built images (null: none; builds run where they run). */
export interface AdminRegion extends Region {
  registryUrl: string | null;
}

const ADMIN_COLUMNS = ['id', 'name', 'registry_url as registryUrl'];

export async function listRegions(db: Db): Promise<Region[]> {
  return db('regions').orderBy('id').select<Region[]>('id', 'name');
}

export async function createRegion(db: Db, region: Region & { registryUrl?: string | null }): Promise<AdminRegion> {
  const rows = await db('regions')
    .insert({ id: region.id, name: region.name, registry_url: region.registryUrl ?? null })
    .onConflict('id')
    .ignore()
    .returning<AdminRegion[]>(ADMIN_COLUMNS);
  if (rows.length === 0) throw new DomainError('CONFLICT', `id: region ${region.id} already exists`);
  return rows[0]!;
}

/** Renames and/or sets the registry (null removes it); builds queued after this use the new one. */
export async function updateRegion(db: Db, id: string, patch: { name?: string; registryUrl?: string | null }): Promise<AdminRegion> {
  const changes: Record<string, unknown> = {};
  if (patch.name !== undefined) changes.name = patch.name;
  if (patch.registryUrl !== undefined) changes.registry_url = patch.registryUrl;
  const q = db('regions').where({ id });
  const rows = Object.keys(changes).length > 0 ? await q.update(changes).returning<AdminRegion[]>(ADMIN_COLUMNS) : await q.select<AdminRegion[]>(ADMIN_COLUMNS);
  if (rows.length === 0) throw new DomainError('NOT_FOUND', 'region not found');
  return rows[0]!;
}

export async function deleteRegion(db: Db, id: string): Promise<void> {
  await db.transaction(async (trx) => {
    const region = await trx('regions').where({ id }).forUpdate().first<Region | undefined>('id');
    if (!region) throw new DomainError('NOT_FOUND', 'region not found');
    // Nodes and apps keep their history (metrics, billing) after removal, so a region that ever
    // had one stays; only a region created by mistake can be deleted.
    const nodes = await trx('nodes').where({ region_id: id }).count<{ n: string }[]>({ n: '*' });
    const apps = await trx('apps').where({ region_id: id }).count<{ n: string }[]>({ n: '*' });
    if (Number(nodes[0]?.n) > 0 || Number(apps[0]?.n) > 0) {
      throw new DomainError('CONFLICT', `region ${id} has nodes or apps`);
    }
    await trx('node_registration_tokens').where({ region_id: id }).delete();
    await trx('regions').where({ id }).delete();
  });
}
