import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import { conflictOnUnique } from './unique-violation';

/** A size apps are sold in: resources reserved per replica and the hourly price per replica. */
export interface Plan {
  id: string;
  name: string;
  cpuMillicores: number;
  memoryMb: number;
  diskMb: number;
  /** per replica per hour, in the currency's minor unit */
  hourlyPrice: number;
  currency: string;
  /** inactive plans stay valid for apps already on them but are not offered for new apps */
  active: boolean;
}

export type NewPlan = Omit<Plan, 'id' | 'currency' | 'active'> & { id?: string; currency?: string; active?: boolean };
export type PlanPatch = Partial<Omit<Plan, 'id'>>;

interface PlanRow {
  id: string;
  name: string;
  cpu_millicores: number;
  memory_mb: number;
  disk_mb: number;
  hourly_price: string | number;
  currency: string;
  active: boolean;
}

const COLUMNS = ['id', 'name', 'cpu_millicores', 'memory_mb', 'disk_mb', 'hourly_price', 'currency', 'active'];

// bigint comes back from pg as a string; prices are bounded to safe integers at the edge.
const toPlan = (r: PlanRow): Plan => ({
  id: r.id,
  name: r.name,
  cpuMillicores: r.cpu_millicores,
  memoryMb: r.memory_mb,
  diskMb: r.disk_mb,
  hourlyPrice: Number(r.hourly_price),
  currency: r.currency,
  active: r.active,
});

const UNIQUE_FIELDS = { plans_pkey: 'id', plans_name_key: 'name' } as const;

export async function listPlans(db: Db, filter: { activeOnly: boolean }): Promise<Plan[]> {
  const q = db('plans').orderBy([{ column: 'cpu_millicores' }, { column: 'memory_mb' }, { column: 'id' }]);
  if (filter.activeOnly) void q.where({ active: true });
  return (await q.select<PlanRow[]>(COLUMNS)).map(toPlan);
}

export async function getPlan(db: Db, id: string): Promise<Plan | undefined> {
  const row = await db('plans').where({ id }).first<PlanRow | undefined>(COLUMNS);
  return row && toPlan(row);
}

export async function createPlan(db: Db, plan: NewPlan): Promise<Plan> {
  const rows = await conflictOnUnique(
    db('plans')
      .insert({
        id: plan.id ?? newId('plan'),
        name: plan.name,
        cpu_millicores: plan.cpuMillicores,
        memory_mb: plan.memoryMb,
        disk_mb: plan.diskMb,
        hourly_price: plan.hourlyPrice,
        currency: plan.currency ?? 'UZS',
        active: plan.active ?? true,
      })
      .returning<PlanRow[]>(COLUMNS),
    UNIQUE_FIELDS,
    'plan',
  );
  return toPlan(rows[0]!);
}

/**
 * Price, name and availability can change at any time. What a replica reserves and the currency
 * it is billed in are fixed once an app uses the plan: changing them would silently resize or
 * re-price running apps behind the scheduler's and the ledger's back; make a new plan instead.
 */
export async function updatePlan(db: Db, id: string, patch: PlanPatch): Promise<Plan> {
  return db.transaction(async (trx) => {
    const current = await trx('plans').where({ id }).forUpdate().first<PlanRow | undefined>(COLUMNS);
    if (!current) throw new DomainError('NOT_FOUND', 'plan not found');
    const was = toPlan(current);
    const fixed = (['cpuMillicores', 'memoryMb', 'diskMb', 'currency'] as const).filter((k) => patch[k] !== undefined && patch[k] !== was[k]);
    if (fixed.length > 0 && (await appsOnPlan(trx, id)) > 0) {
      throw new DomainError('CONFLICT', `${fixed.join(', ')}: plan ${id} is used by apps; create a new plan instead`, { fields: fixed });
    }
    const rows = await conflictOnUnique(
      trx('plans')
        .where({ id })
        .update({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.cpuMillicores !== undefined ? { cpu_millicores: patch.cpuMillicores } : {}),
          ...(patch.memoryMb !== undefined ? { memory_mb: patch.memoryMb } : {}),
          ...(patch.diskMb !== undefined ? { disk_mb: patch.diskMb } : {}),
          ...(patch.hourlyPrice !== undefined ? { hourly_price: patch.hourlyPrice } : {}),
          ...(patch.currency !== undefined ? { currency: patch.currency } : {}),
          ...(patch.active !== undefined ? { active: patch.active } : {}),
        })
        .returning<PlanRow[]>(COLUMNS),
      UNIQUE_FIELDS,
      'plan',
    );
    return toPlan(rows[0]!);
  });
}

/**
 * Apps keep their plan for billing history even after deletion, so a plan any app ever used
 * stays; deactivating it takes it off the menu instead.
 */
export async function deletePlan(db: Db, id: string): Promise<void> {
  await db.transaction(async (trx) => {
    const plan = await trx('plans').where({ id }).forUpdate().first<{ id: string } | undefined>('id');
    if (!plan) throw new DomainError('NOT_FOUND', 'plan not found');
    const used = await appsOnPlan(trx, id);
    if (used > 0) {
      throw new DomainError('CONFLICT', `plan ${id} is used by ${used} app(s); deactivate it instead (PATCH {"active": false})`, { apps: used });
    }
    await trx('plans').where({ id }).delete();
  });
}

async function appsOnPlan(db: Db, id: string): Promise<number> {
  const rows = await db('apps').where({ plan_id: id }).count<{ n: string }[]>({ n: '*' });
  return Number(rows[0]?.n ?? 0);
}
