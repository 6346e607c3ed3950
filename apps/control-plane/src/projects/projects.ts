// Projects group a customer's apps. Names are unique per owner among live projects; a project is
// deleted (soft: its apps' history stays for billing) only once it has no live apps.
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import type { Caller } from '../access/load-owned';
import { preparedQuery } from '../access/prepared-query';
import { decodeCursor, toPage, type PageQuery } from '../http/pagination';

export interface ProjectRow {
  id: string;
  owner_id: string;
  name: string;
  created_at: Date;
}

export interface ProjectView {
  id: string;
  name: string;
  ownerId: string;
  createdAt: string;
}

export const projectView = (r: ProjectRow): ProjectView => ({ id: r.id, name: r.name, ownerId: r.owner_id, createdAt: r.created_at.toISOString() });

export async function createProject(db: Db, ownerId: string, name: string): Promise<ProjectView> {
  const rows = await db.raw<{ rows: ProjectRow[] }>(
    `insert into projects (id, owner_id, name) values (?, ?, ?)
     on conflict (owner_id, name) where deleted_at is null do nothing
     returning id, owner_id, name, created_at`,
    [newId('prj'), ownerId, name],
  );
  const row = rows.rows[0];
  if (!row) throw new DomainError('CONFLICT', `name: you already have a project named ${name}`);
  return projectView(row);
}

/** A customer's own projects; an admin sees every project. Newest first. */
export async function listProjects(db: Db, caller: Caller, page: PageQuery) {
  // One prepared statement per combination of filters: the texts are fixed, the values are bound.
  const where = ['deleted_at is null'];
  const values: unknown[] = [];
  const bind = (v: unknown) => `$${values.push(v)}`;
  if (caller.role !== 'admin') where.push(`owner_id = ${bind(caller.userId)}`);
  if (page.cursor) {
    const c = decodeCursor(page.cursor);
    where.push(`(created_at, id) < (${bind(c.at)}::timestamptz, ${bind(c.id)})`);
  }
  const text = `select id, owner_id, name, created_at from projects where ${where.join(' and ')} order by created_at desc, id desc limit ${bind(page.limit + 1)}`;
  const name = `projects_list_${caller.role === 'admin' ? 'all' : 'own'}${page.cursor ? '_after' : ''}`;
  const rows = await preparedQuery<ProjectRow>(db, name, text, values);
  return toPage(rows, page.limit, projectView);
}

export async function deleteProject(db: Db, projectId: string): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('projects').where({ id: projectId }).forUpdate().first('id');
    const live = await trx('apps').where({ project_id: projectId }).whereNull('deleted_at').count<{ n: string }[]>({ n: '*' });
    if (Number(live[0]?.n) > 0) throw new DomainError('CONFLICT', 'the project still has apps; delete them first');
    await trx('projects').where({ id: projectId }).update({ deleted_at: trx.fn.now() });
  });
}
