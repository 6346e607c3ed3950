import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import type { Usage } from './check-quota';
import { tierOf, type TierName } from './tiers';

/**
 * A user's tier and usage. Inside a transaction, `lock: true` takes the user's row first, so two
 * concurrent creations by one user are checked one after the other (check, insert, commit) and
 * cannot both slip under a limit.
 */
export async function loadUsage(db: Db, userId: string, opts: { lock?: boolean } = {}): Promise<Usage & { tier: TierName }> {
  const userQuery = db('users').where({ id: userId }).first<{ tier: string } | undefined>('tier');
  const user = await (opts.lock ? userQuery.forUpdate() : userQuery);
  if (!user) throw new DomainError('NOT_FOUND', 'user not found');
  const [projects] = await db('projects').where({ owner_id: userId }).whereNull('deleted_at').count<{ n: string }[]>({ n: '*' });
  const [apps] = await db('apps as a')
    .join('plans as p', 'p.id', 'a.plan_id')
    .where('a.owner_id', userId)
    .whereNull('a.deleted_at')
    .select<{ n: string; cpu: string | null; mem: string | null }[]>(
      db.raw('count(*) as n'),
      db.raw('sum(p.cpu_millicores::bigint * a.replicas) as cpu'),
      db.raw('sum(p.memory_mb::bigint * a.replicas) as mem'),
    );
  return {
    tier: tierOf(user.tier),
    projects: Number(projects?.n ?? 0),
    apps: Number(apps?.n ?? 0),
    cpuMillicores: Number(apps?.cpu ?? 0),
    memoryMb: Number(apps?.mem ?? 0),
  };
}
