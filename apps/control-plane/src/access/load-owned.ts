// The one place that answers "may this caller see this resource?". Every route that takes an id —
// in its path or in its body — loads the resource through here: a row that does not exist and a
// row of another tenant are the same 404, so ids cannot be probed. Admins see everything.
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import { preparedQuery } from './prepared-query';

export interface Caller {
  userId: string;
  role: 'admin' | 'customer';
}

/** kind → a query selecting one live row by id (`$1`), with the owner's id as `owner_id`; prepared as `owned_<kind>`. */
const QUERIES = {
  project: 'select p.* from projects p where p.id = $1 and p.deleted_at is null',
  // The current release's number too, so the app's view needs no second query (GET /apps/:id).
  app: 'select a.*, (select r.number from releases r where r.id = a.current_release_id) as current_release_number from apps a where a.id = $1 and a.deleted_at is null',
  deploy: 'select d.*, a.owner_id from deploys d join apps a on a.id = d.app_id where d.id = $1 and a.deleted_at is null',
  domain: 'select d.*, a.owner_id, a.region_id from domains d join apps a on a.id = d.app_id where d.id = $1 and d.deleted_at is null and a.deleted_at is null',
} as const;

export type OwnedKind = keyof typeof QUERIES;

export async function loadOwned<Row extends { owner_id: string }>(db: Db, caller: Caller, kind: OwnedKind, id: string): Promise<Row> {
  const [row] = await preparedQuery<Row>(db, `owned_${kind}`, QUERIES[kind], [id]);
  if (!row || (caller.role !== 'admin' && row.owner_id !== caller.userId)) {
    throw new DomainError('NOT_FOUND', `${kind} not found`);
  }
  return row;
}
