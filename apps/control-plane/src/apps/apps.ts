// Creating, listing, reading and changing apps. Names are unique per region among live apps,
// because they are the first label of the system hostname.
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import { loadOwned, type Caller } from '../access/load-owned';
import { preparedQuery } from '../access/prepared-query';
import { getPlan, type Plan } from '../catalog/plans';
import { decodeCursor, toPage, type PageQuery } from '../http/pagination';
import type { CreateAppInput, PatchAppInput } from './app-schemas';
import type { AppRow } from './app-row';
import { appView, type AppView } from './app-view';
import type { SecretBox } from '../secrets/secret-box';
import { gitTokenAad, planSourceChange, tokenColumns } from './git-credentials';

const APP_COLUMNS = `a.*, (select r.number from releases r where r.id = a.current_release_id) as current_release_number`;

export async function loadAppView(db: Db, appId: string, appsDomain: string): Promise<AppView> {
  const [row] = await preparedQuery<AppRow & { current_release_number: number | null }>(db, 'app_view', `select ${APP_COLUMNS} from apps a where a.id = $1`, [appId]);
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
  // One prepared statement per combination of filters: the texts are fixed, the values are bound.
  const where = ['a.deleted_at is null'];
  const values: unknown[] = [];
  const bind = (v: unknown) => `$${values.push(v)}`;
  if (caller.role !== 'admin') where.push(`a.owner_id = ${bind(caller.userId)}`);
  if (page.projectId) where.push(`a.project_id = ${bind(page.projectId)}`);
  if (page.cursor) {
    const c = decodeCursor(page.cursor);
    where.push(`(a.created_at, a.id) < (${bind(c.at)}::timestamptz, ${bind(c.id)})`);
  }
  const text = `select ${APP_COLUMNS} from apps a where ${where.join(' and ')} order by a.created_at desc, a.id desc limit ${bind(page.limit + 1)}`;
  const name = `apps_list_${caller.role === 'admin' ? 'all' : 'own'}${page.projectId ? '_project' : ''}${page.cursor ? '_after' : ''}`;
  const rows = await preparedQuery<AppRow & { current_release_number: number | null }>(db, name, text, values);
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
  // The changed row comes back with the update: one round trip, not an update and then a read.
  const [row] = (await db('apps as a').where('a.id', app.id).whereNull('a.deleted_at').update(changes).returning(db.raw(APP_COLUMNS))) as unknown as Array<
    AppRow & { current_release_number: number | null }
  >;
  // Deleted meanwhile: nothing was changed; answer with the row as it now is.
  return row ? appView(row, appsDomain) : loadAppView(db, app.id, appsDomain);
}
