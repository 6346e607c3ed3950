// Creating, listing, reading and changing apps. Names are unique per region among live apps,
// because they are the first label of the system hostname.
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import { loadOwned, type Caller } from '../access/load-owned';
import { getPlan, type Plan } from '../catalog/plans';
import { decodeCursor, toPage, type PageQuery } from '../http/pagination';
import type { CreateAppInput, PatchAppInput } from './app-schemas';
import type { AppRow } from './app-row';
import { appView, type AppView } from './app-view';
import type { SecretBox } from '../secrets/secret-box';
import { gitTokenAad, planSourceChange, tokenColumns } from './git-credentials';

const APP_COLUMNS = `a.*, (select r.number from releases r where r.id = a.current_release_id) as current_release_number`;

export async function loadAppView(db: Db, appId: string, appsDomain: string): Promise<AppView> {
  const res = await db.raw<{ rows: Array<AppRow & { current_release_number: number | null }> }>(`select ${APP_COLUMNS} from apps a where a.id = ?`, [appId]);
  const row = res.rows[0];
  if (!row) throw new DomainError('NOT_FOUND', 'app not found');
  return appView(row, appsDomain);
}

/** The plan an app may use: it must exist and be offered. */
export async function requireActivePlan(db: Db, planId: string): Promise<Plan> {
  const plan = await getPlan(db, planId);
  if (!plan || !plan.active) throw DomainError.validation([{ path: 'planId', message: `no such plan: ${planId}` }]);
  return plan;
}

export async function createApp(db: Db, secrets: SecretBox, caller: Caller, input: CreateAppInput, appsDomain: string): Promise<AppView> {
  // The project id comes from the body: someone else's project is the same 404 as a missing one.
  const project = await loadOwned<{ owner_id: string; id: string }>(db, caller, 'project', input.projectId);
  const region = await db('regions').where({ id: input.region }).first<{ id: string } | undefined>('id');
  if (!region) throw DomainError.validation([{ path: 'region', message: `no such region: ${input.region}` }]);
  await requireActivePlan(db, input.planId);
  const id = newId('app');
  // A token is sealed under the new app's id; `source` is stored without it.
  const { stored, token } = planSourceChange(undefined, input.source);
  const cols = tokenColumns(token, (t) => secrets.seal(t, gitTokenAad(id)));
  const res = await db.raw<{ rows: Array<{ id: string }> }>(
    `insert into apps (id, project_id, owner_id, name, region_id, plan_id, source, port, replicas, health_check, git_token_ciphertext, git_token_username)
     values (?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?::jsonb, ?, ?)
     on conflict (region_id, name) where deleted_at is null do nothing
     returning id`,
    [id, project.id, project.owner_id, input.name, input.region, input.planId, JSON.stringify(stored), input.port, input.replicas, input.healthCheck ? JSON.stringify(input.healthCheck) : null, cols.git_token_ciphertext ?? null, cols.git_token_username ?? null],
  );
  if (res.rows.length === 0) throw new DomainError('CONFLICT', `name: an app named ${input.name} already exists in ${input.region}`);
  return loadAppView(db, id, appsDomain);
}

export async function listApps(db: Db, caller: Caller, page: PageQuery & { projectId?: string | undefined }, appsDomain: string) {
  const q = db
    .from('apps as a')
    .whereNull('a.deleted_at')
    .orderBy([{ column: 'a.created_at', order: 'desc' }, { column: 'a.id', order: 'desc' }])
    .limit(page.limit + 1)
    .select(db.raw(APP_COLUMNS));
  if (caller.role !== 'admin') q.where('a.owner_id', caller.userId);
  if (page.projectId) q.where('a.project_id', page.projectId);
  if (page.cursor) {
    const c = decodeCursor(page.cursor);
    q.whereRaw('(a.created_at, a.id) < (?::timestamptz, ?)', [c.at, c.id]);
  }
  const rows = (await q) as Array<AppRow & { current_release_number: number | null }>;
  return toPage(rows, page.limit, (r) => appView(r, appsDomain));
}

/** Changes take effect with the next deploy; the running release keeps what it was built with. */
export async function patchApp(db: Db, secrets: SecretBox, app: AppRow, input: PatchAppInput, appsDomain: string): Promise<AppView> {
  if (input.planId !== undefined) await requireActivePlan(db, input.planId);
  if (input.source && input.source.type !== app.source.type) {
    throw DomainError.validation([{ path: 'source.type', message: `this app deploys from ${app.source.type}; create another app to change the kind of source` }]);
  }
  const changes: Record<string, unknown> = { updated_at: db.fn.now() };
  if (input.planId !== undefined) changes.plan_id = input.planId;
  if (input.source) {
    const { stored, token } = planSourceChange(app.source, input.source);
    changes.source = JSON.stringify(stored);
    Object.assign(changes, tokenColumns(token, (t) => secrets.seal(t, gitTokenAad(app.id))));
  }
  if (input.port !== undefined) changes.port = input.port;
  if (input.healthCheck) changes.health_check = JSON.stringify(input.healthCheck);
  await db('apps').where({ id: app.id }).whereNull('deleted_at').update(changes);
  return loadAppView(db, app.id, appsDomain);
}
