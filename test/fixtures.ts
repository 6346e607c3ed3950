// Database rows that later issues will create through the API (customers, apps, releases), made
// directly so placement and dispatch can be tested on their own.
import type { Knex } from 'knex';
import { newId } from '../apps/control-plane/src/db/ids';
import type { AllocationSpec } from '../apps/control-plane/src/planner/allocation-spec';

export async function createAppFixture(db: Knex, region: string): Promise<{ appId: string; releaseId: string; spec: AllocationSpec }> {
  const userId = newId('usr');
  const projectId = newId('prj');
  const appId = newId('app');
  const releaseId = newId('rel');
  const planId = newId('plan');
  await db('regions').insert({ id: region, name: region }).onConflict('id').ignore();
  await db('users').insert({ id: userId, email: `${userId}@example.test`, password_hash: 'x', role: 'customer' });
  await db('plans').insert({ id: planId, name: planId, cpu_millicores: 250, memory_mb: 128, disk_mb: 512, hourly_price: 100 });
  await db('projects').insert({ id: projectId, owner_id: userId, name: 'p' });
  await db('apps').insert({ id: appId, project_id: projectId, owner_id: userId, name: `a${appId.slice(-8)}`, region_id: region, plan_id: planId, source: JSON.stringify({ type: 'image', image: 'busybox:latest' }) });
  await db('releases').insert({ id: releaseId, app_id: appId, number: 1, image: 'busybox:latest' });
  return {
    appId,
    releaseId,
    spec: { tenantId: userId, releaseId, releaseNumber: 1, image: 'busybox:latest', env: { GREETING: 'hi' }, port: 8080, healthCheck: { type: 'tcp' } },
  };
}

/** A node row that is online with the given capacity, without an agent (for planner tests). */
export async function createNodeFixture(db: Knex, region: string, capacity: { cpuMillicores: number; memoryMb: number; diskMb: number }, labels: string[] = []): Promise<string> {
  const id = newId('node');
  await db('regions').insert({ id: region, name: region }).onConflict('id').ignore();
  await db('nodes').insert({
    id,
    name: id,
    region_id: region,
    labels: JSON.stringify(labels),
    liveness: 'online',
    last_heartbeat_at: db.fn.now(),
    credential_hash: newId('hash'),
    capacity_cpu_millicores: capacity.cpuMillicores,
    capacity_memory_mb: capacity.memoryMb,
    capacity_disk_mb: capacity.diskMb,
  });
  return id;
}
