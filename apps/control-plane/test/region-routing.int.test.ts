// The routing a desired state carries is held in memory under the installation's routing version
// (routing/region-routes.ts, migrations/0010_routing_version.ts). These tests change routes through
// a second pool — another control plane's transactions, with no generation bump and no NOTIFY — and
// check that the next desired state built here carries the change, and that nothing is read again
// while nothing changed.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateKeyAad } from '../src/certificates/certificate-store';
import { connectDatabase, type Db } from '../src/db/connect';
import { newId } from '../src/db/ids';
import { migrateToLatest } from '../src/db/migrate';
import { loadDesiredStates, type DesiredStateContext } from '../src/dispatch/desired-state';
import { commitPlacements } from '../src/planner/commit-placements';
import { secretBoxFromMasterKeys } from '../src/secrets/secret-box';
import { createTestDatabase } from '../../../test/database';
import { createAppFixture, createNodeFixture } from '../../../test/fixtures';

const REGION = 'routing-int';
const APPS_DOMAIN = 'apps.karvon.test';
const box = secretBoxFromMasterKeys(randomBytes(32));
let database: { url: string; drop(): Promise<void> };
/** this control plane's pool, whose statements are counted */
let here: Db;
/** another control plane's pool */
let other: Db;
const statements: string[] = [];
const ctx: DesiredStateContext = { routing: { appsDomain: APPS_DOMAIN, secrets: box } };

beforeAll(async () => {
  database = await createTestDatabase();
  here = connectDatabase(database.url);
  other = connectDatabase(database.url);
  await migrateToLatest(here);
  here.on('query', (q: { sql: string }) => statements.push(q.sql.replace(/\s+/g, ' ').trim()));
});
afterAll(async () => {
  await here?.destroy();
  await other?.destroy();
  await database?.drop();
});

const capacity = { cpuMillicores: 64_000, memoryMb: 64_000, diskMb: 640_000 };
const version = async () => Number((await other('routing_version').first<{ version: string }>('version')).version);

/** Builds the nodes' states here; answers them and how many statements that took. */
async function states(nodeIds: readonly string[]) {
  statements.length = 0;
  const out = await loadDesiredStates(here, nodeIds.map((nodeId) => ({ nodeId, sessionGeneration: 1 })), ctx);
  return { out, statements: statements.length };
}

/** An app with a release in the region and one replica on `nodeId`, not yet healthy. */
async function routedApp(nodeId: string) {
  const app = await createAppFixture(other, REGION);
  await other('apps').where({ id: app.appId }).update({ current_release_id: app.releaseId });
  const [placed] = await commitPlacements(other, [{ appId: app.appId, releaseId: app.releaseId, resources: { cpuMillicores: 100, memoryMb: 64, diskMb: 10 }, nodeIds: [nodeId], spec: app.spec }]);
  const name = (await other('apps').where({ id: app.appId }).first<{ name: string }>('name')).name;
  return { ...app, allocationId: placed!.id, hostname: `${name}.${REGION}.${APPS_DOMAIN}` };
}

describe('routing held under the routing version', () => {
  let n1: string;
  let n2: string;
  let app: Awaited<ReturnType<typeof routedApp>>;

  beforeAll(async () => {
    n1 = await createNodeFixture(other, REGION, capacity);
    n2 = await createNodeFixture(other, REGION, capacity);
    app = await routedApp(n1);
  });

  it('reads the routing once, then builds states in one statement while nothing routed changes', async () => {
    const first = await states([n1, n2]);
    expect(first.statements).toBe(2);
    expect(first.out.get(n2)!.routes.find((r) => r.appId === app.appId)).toEqual({ hostname: app.hostname, appId: app.appId, tls: false, upstreams: [] });
    // A placement, a generation bump and status changes short of healthy do not touch routing.
    const before = await version();
    await other('allocations').where({ id: app.allocationId }).update({ actual_status: 'starting' });
    await other('nodes').where({ id: n1 }).update({ desired_generation: other.raw('desired_generation + 1') });
    await commitPlacements(other, [{ appId: app.appId, releaseId: app.releaseId, resources: { cpuMillicores: 100, memoryMb: 64, diskMb: 10 }, nodeIds: [n2], spec: app.spec }]);
    expect(await version()).toBe(before);
    const second = await states([n1, n2]);
    expect(second.statements).toBe(1);
    expect(second.out.get(n1)!.routes).toEqual(first.out.get(n1)!.routes);
    expect(second.out.get(n2)!.allocations).toHaveLength(1);
  });

  it('carries an upstream turned healthy by another control plane’s transaction, with no generation bump', async () => {
    await states([n1, n2]);
    await other.transaction(async (trx) => {
      await trx('allocations').where({ id: app.allocationId }).update({ actual_status: 'healthy', upstream: '10.0.0.1:30001' });
    });
    const after = await states([n1, n2]);
    expect(after.statements).toBe(2);
    expect(after.out.get(n2)!.routes.find((r) => r.appId === app.appId)!.upstreams).toEqual([{ address: '10.0.0.1:30001', local: false }]);
    expect(after.out.get(n1)!.routes.find((r) => r.appId === app.appId)!.upstreams).toEqual([{ address: '10.0.0.1:30001', local: true }]);
    // ...and the upstream leaves when the replica stops being healthy.
    await other('allocations').where({ id: app.allocationId }).update({ actual_status: 'unhealthy' });
    expect((await states([n2])).out.get(n2)!.routes.find((r) => r.appId === app.appId)!.upstreams).toEqual([]);
  });

  it('lets a transaction on this pool use the routing held here, and never keeps what a transaction read', async () => {
    await states([n1, n2]);
    // Held at the current version: the transaction's read is one statement, with the same routes.
    statements.length = 0;
    const inTrx = await here.transaction((trx) => loadDesiredStates(trx, [{ nodeId: n2, sessionGeneration: 1 }], ctx, here));
    expect(statements.filter((sql) => sql.includes('with routed as'))).toEqual([]);
    expect(inTrx.get(n2)!.routes).toEqual((await states([n2])).out.get(n2)!.routes);
    // Moved elsewhere: the transaction reads the routing itself and sees the change, but does not
    // keep it (it could hold the transaction's own uncommitted writes): the pool reads it again.
    await other('allocations').where({ id: app.allocationId }).update({ actual_status: 'healthy', upstream: '10.0.0.7:30007' });
    statements.length = 0;
    const moved = await here.transaction((trx) => loadDesiredStates(trx, [{ nodeId: n2, sessionGeneration: 1 }], ctx, here));
    expect(statements.filter((sql) => sql.includes('with routed as'))).toHaveLength(1);
    expect(moved.get(n2)!.routes.find((r) => r.appId === app.appId)!.upstreams.map((u) => u.address)).toEqual(['10.0.0.7:30007']);
    const after = await states([n2]);
    expect(after.statements).toBe(2);
    expect(after.out.get(n2)!.routes).toEqual(moved.get(n2)!.routes);
  });

  it('bumps the version once per transaction, at its commit, however many routed rows it changes', async () => {
    const before = await version();
    await other.transaction(async (trx) => {
      await trx('allocations').where({ app_id: app.appId }).whereNull('stopped_at').update({ actual_status: 'healthy', upstream: '10.0.0.9:30009' });
      await trx('allocations').where({ app_id: app.appId }).whereNull('stopped_at').update({ upstream: '10.0.0.9:30010' });
      // Deferred: not bumped before the commit.
      expect(Number((await trx('routing_version').first<{ version: string }>('version')).version)).toBe(before);
    });
    expect(await version()).toBe(before + 1);
    const routes = (await states([n2])).out.get(n2)!.routes.find((r) => r.appId === app.appId)!;
    expect(routes.upstreams.map((u) => u.address)).toEqual(['10.0.0.9:30010', '10.0.0.9:30010']);
  });

  it('carries a domain verified and a certificate issued elsewhere, and a deleted app leaves every node', async () => {
    await states([n1, n2]);
    const hostname = `shop-${randomBytes(3).toString('hex')}.example.com`;
    await other('domains').insert({ id: newId('dom'), app_id: app.appId, hostname, verification_value: 'v', status: 'verified', verified_at: other.fn.now() });
    let got = await states([n1, n2]);
    expect(got.out.get(n2)!.routes.find((r) => r.hostname === hostname)).toMatchObject({ appId: app.appId, tls: false });
    // A pending certificate, then its lease, route nothing; issuing it does.
    await other('certificates').insert({ id: newId('cert'), hostname, status: 'pending' });
    const before = await version();
    await other('certificates').where({ hostname }).update({ lease_until: other.fn.now(), attempts: 1 });
    expect(await version()).toBe(before);
    await other('certificates')
      .where({ hostname })
      .update({ status: 'issued', certificate_pem: 'CERT', private_key_ciphertext: box.seal('KEY', certificateKeyAad(hostname)), not_after: new Date(Date.now() + 86_400_000) });
    got = await states([n1, n2]);
    expect(got.out.get(n1)!.routes.find((r) => r.hostname === hostname)!.tls).toBe(true);
    expect(got.out.get(n1)!.certificates.map((c) => [c.hostnames, c.privateKeyPem])).toEqual([[[hostname], 'KEY']]);
    await other('apps').where({ id: app.appId }).update({ deleted_at: other.fn.now() });
    got = await states([n1, n2]);
    for (const n of [n1, n2]) {
      expect(got.out.get(n)!.routes.find((r) => r.appId === app.appId)).toBeUndefined();
      expect(got.out.get(n)!.certificates).toEqual([]);
    }
  });

  it('drops a held certificate when it expires, with nothing written', async () => {
    const second = await routedApp(n2);
    await other('certificates').insert({
      id: newId('cert'),
      hostname: second.hostname,
      status: 'issued',
      certificate_pem: 'CERT',
      private_key_ciphertext: box.seal('KEY', certificateKeyAad(second.hostname)),
      not_after: new Date(Date.now() + 1_500),
    });
    const got = await states([n1]);
    expect(got.out.get(n1)!.certificates.map((c) => c.hostnames[0])).toEqual([second.hostname]);
    expect((await states([n1])).statements).toBe(1);
    await new Promise((r) => setTimeout(r, 1_600));
    const later = await states([n1]);
    expect(later.statements).toBe(2);
    expect(later.out.get(n1)!.certificates).toEqual([]);
    expect(later.out.get(n1)!.routes.find((r) => r.hostname === second.hostname)!.tls).toBe(false);
  });
});
