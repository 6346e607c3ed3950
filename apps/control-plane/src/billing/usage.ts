// Monthly usage per app, read from the hourly usage records (one per app and charged hour; an hour
// belongs to the month it starts in, UTC). `hours` are replica-hours, to three decimals.
import type { Db } from '../db/connect';
import { money } from './money';

export interface MonthlyUsage {
  items: Array<{ appId: string; hours: number; amount: number }>;
  total: number;
  currency: string;
}

/** `2030-01` → [2030-01-01T00:00Z, 2030-02-01T00:00Z) */
export function monthRange(month: string): { from: Date; to: Date } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return { from: new Date(Date.UTC(y, m - 1, 1)), to: new Date(Date.UTC(y, m, 1)) };
}

export async function monthlyUsage(db: Db, userId: string, month: string, currency: string): Promise<MonthlyUsage> {
  const { from, to } = monthRange(month);
  const rows = await db('usage_records')
    .where({ owner_id: userId })
    .andWhere('hour', '>=', from)
    .andWhere('hour', '<', to)
    .groupBy('app_id')
    .orderBy('app_id')
    .select<Array<{ app_id: string; seconds: string; amount: string }>>('app_id', db.raw('sum(replica_seconds)::bigint as seconds'), db.raw('sum(amount)::bigint as amount'));
  const items = rows.map((r) => ({ appId: r.app_id, hours: Math.round((money(r.seconds) / 3600) * 1000) / 1000, amount: money(r.amount) }));
  return { items, total: items.reduce((s, i) => s + i.amount, 0), currency };
}
