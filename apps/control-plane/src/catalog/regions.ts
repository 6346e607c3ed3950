import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';

export interface Region {
  id: string;
  name: string;
}

export async function listRegions(db: Db): Promise<Region[]> {
  return db('regions').orderBy('id').select<Region[]>('id', 'name');
}

export async function createRegion(db: Db, region: Region): Promise<Region> {
  const rows = await db('regions').insert(region).onConflict('id').ignore().returning<Region[]>(['id', 'name']);
  if (rows.length === 0) throw new DomainError('CONFLICT', `id: region ${region.id} already exists`);
  return rows[0]!;
}

export async function renameRegion(db: Db, id: string, name: string): Promise<Region> {
  const rows = await db('regions').where({ id }).update({ name }).returning<Region[]>(['id', 'name']);
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
