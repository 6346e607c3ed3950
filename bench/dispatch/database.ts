// Database side of the dispatch benchmarks: an embedded PostgreSQL in a temp dir (the product's own
// helper, free port, migrated by the product's migrations), and the rows placement needs (regions,
// tenants, apps, releases, nodes) written in bulk: this measures the planner and dispatch, not
// sign-up or registration.
import { connectDatabase, type Db } from '../../apps/control-plane/src/db/connect';
import { startEmbeddedPostgres } from '../../apps/control-plane/src/db/embedded-postgres';
import { newId } from '../../apps/control-plane/src/db/ids';
import { migrateToLatest } from '../../apps/control-plane/src/db/migrate';
import type { AllocationSpec } from '../../apps/control-plane/src/planner/allocation-spec';
import type { Resources } from '../../apps/control-plane/src/scheduler';
import { freePort } from '../hub/control-plane-process';
import type { Resources as Scope } from '../hub/harness';

export interface BenchDatabase {
  url: string;
  db: Db;
}

/** Starts, migrates and connects; everything is stopped and removed when `scope` is released. */
export async function startBenchDatabase(scope: Scope, dataDir: string, poolMax = 10): Promise<BenchDatabase> {
  const port = await freePort();
  const pg = await startEmbeddedPostgres({ dataDir, port });
  scope.add('embedded PostgreSQL', () => pg.stop());
  const db = connectDatabase(pg.url, { poolMax });
  scope.add('database pool', () => db.destroy());
  await migrateToLatest(db);
  return { url: pg.url, db };
}

export interface BenchApp {
  appId: string;
  releaseId: string;
  region: string;
  resources: Resources;
  spec: AllocationSpec;
}

/**
 * `perRegion` apps in each region, each with its own tenant, project, plan size and release 1, as
 * test/fixtures.ts makes one (in bulk here). `sizeOf(i)` picks app i's per-replica resources.
 */
export async function seedApps(db: Db, regions: readonly string[], perRegion: number, sizeOf: (i: number) => Resources): Promise<BenchApp[]> {
  await db('regions')
    .insert(regions.map((r) => ({ id: r, name: r })))
    .onConflict('id')
    .ignore();
  const apps: BenchApp[] = [];
  const users: object[] = [];
  const plans: object[] = [];
  const projects: object[] = [];
  const appRows: object[] = [];
  const releases: object[] = [];
  let i = 0;
  for (const region of regions) {
    for (let k = 0; k < perRegion; k++, i++) {
      const userId = newId('usr');
      const planId = newId('plan');
      const projectId = newId('prj');
      const appId = newId('app');
      const releaseId = newId('rel');
      const resources = sizeOf(i);
      users.push({ id: userId, email: `${userId}@bench.test`, password_hash: 'x', role: 'customer' });
      plans.push({ id: planId, name: planId, cpu_millicores: resources.cpuMillicores, memory_mb: resources.memoryMb, disk_mb: resources.diskMb, hourly_price: 100 });
      projects.push({ id: projectId, owner_id: userId, name: 'p' });
      appRows.push({ id: appId, project_id: projectId, owner_id: userId, name: `a${i}`, region_id: region, plan_id: planId, source: JSON.stringify({ type: 'image', image: 'busybox:latest' }) });
      releases.push({ id: releaseId, app_id: appId, number: 1, image: 'busybox:latest' });
      apps.push({
        appId,
        releaseId,
        region,
        resources,
        spec: { tenantId: userId, releaseId, releaseNumber: 1, image: 'busybox:latest', env: { GREETING: 'hi' }, port: 8080, healthCheck: { type: 'tcp' } },
      });
    }
  }
  for (const [table, rows] of [
    ['users', users],
    ['plans', plans],
    ['projects', projects],
    ['apps', appRows],
    ['releases', releases],
  ] as const) {
    await db.batchInsert(table, rows as Array<Record<string, unknown>>, 1_000);
  }
  return apps;
}

export interface NodeSeed {
  id: string;
  region: string;
  labels?: string[];
  capacity: Resources;
  maxContainers: number;
  /** sha256 of the node credential (the product's hashSecret); random when the node never connects */
  credentialHash?: string;
  liveness: 'online' | 'offline';
}

export async function seedNodes(db: Db, nodes: readonly NodeSeed[]): Promise<void> {
  const regions = [...new Set(nodes.map((n) => n.region))];
  await db('regions')
    .insert(regions.map((r) => ({ id: r, name: r })))
    .onConflict('id')
    .ignore();
  const rows = nodes.map((n) => ({
    id: n.id,
    name: n.id,
    region_id: n.region,
    labels: JSON.stringify(n.labels ?? []),
    liveness: n.liveness,
    last_heartbeat_at: db.fn.now(),
    credential_hash: n.credentialHash ?? newId('hash'),
    capacity_cpu_millicores: n.capacity.cpuMillicores,
    capacity_memory_mb: n.capacity.memoryMb,
    capacity_disk_mb: n.capacity.diskMb,
    max_containers: n.maxContainers,
  }));
  await db.batchInsert('nodes', rows, 1_000);
}
