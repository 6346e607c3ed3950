// Batched admission against real PostgreSQL: many hellos at once share statements, each node's
// session generation still goes up once per admission, and a revoked node is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmissions } from '../src/hub/admissions';
import type { ApiClient } from '../../../test/api-client';
import { registerNode, sampleFacts } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';

let cp: TestControlPlane;
let admin: ApiClient;

beforeAll(async () => {
  cp = await startTestControlPlane();
  admin = await cp.adminClient();
});
afterAll(async () => {
  await cp?.stop();
});

const hello = (hostname: string, cores = 4) => ({ protocolVersion: '1.0', agentVersion: 'test-2', facts: sampleFacts({ hostname, cpu: { cores, model: 't' } }), appliedGeneration: 0 });

describe('admissions', () => {
  it('admits many nodes at once in few transactions, each with its facts, capacity and a new generation', async () => {
    const nodes = await Promise.all(Array.from({ length: 40 }, () => registerNode(admin, 'adm-1')));
    const admissions = createAdmissions(cp.db);
    const before = await cp.db('nodes').whereIn('id', nodes.map((n) => n.nodeId)).select<Array<{ id: string; session_generation: string }>>('id', 'session_generation');
    let statements = 0;
    const count = (q: { sql: string }) => {
      if (q.sql.includes('set session_generation')) statements += 1;
    };
    cp.db.on('query', count);
    const generations = await Promise.all(nodes.map((n, i) => admissions.admit(n.nodeId, hello(`h${i}`, 8))));
    cp.db.off('query', count);
    // the first hellos go at once (two statements may run side by side), the rest queue behind them together
    expect(statements).toBeGreaterThanOrEqual(1);
    expect(statements).toBeLessThanOrEqual(4);
    const byId = new Map(before.map((r) => [r.id, Number(r.session_generation)]));
    expect(generations).toEqual(nodes.map((n) => byId.get(n.nodeId)! + 1));
    const row = await cp.db('nodes').where({ id: nodes[3]!.nodeId }).first<{ liveness: string; agent_version: string; capacity_cpu_millicores: number; facts: { hostname: string } }>();
    expect(row).toMatchObject({ liveness: 'online', agent_version: 'test-2', capacity_cpu_millicores: 7200, facts: { hostname: 'h3' } });
  });

  it('gives racing admissions of one node distinct generations', async () => {
    const node = await registerNode(admin, 'adm-1');
    const admissions = createAdmissions(cp.db);
    const [a, b, c] = await Promise.all([admissions.admit(node.nodeId, hello('x')), admissions.admit(node.nodeId, hello('x')), admissions.admit(node.nodeId, hello('x'))]);
    // which one locks the row first is the race; each still gets its own generation
    const sorted = [a, b, c].sort((x, y) => x - y);
    expect(sorted).toEqual([sorted[0], sorted[0]! + 1, sorted[0]! + 2]);
  });

  it('refuses a revoked node without failing the others of its batch', async () => {
    const [ok, revoked] = await Promise.all([registerNode(admin, 'adm-1'), registerNode(admin, 'adm-1')]);
    await cp.db('nodes').where({ id: revoked.nodeId }).update({ revoked_at: cp.db.fn.now() });
    const admissions = createAdmissions(cp.db);
    const results = await Promise.allSettled([admissions.admit(ok.nodeId, hello('ok')), admissions.admit(revoked.nodeId, hello('r')), admissions.admit('node_unknown', hello('u'))]);
    expect(results[0]).toMatchObject({ status: 'fulfilled' });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { message: 'node revoked during admission' } });
    expect(results[2]).toMatchObject({ status: 'rejected' });
  });
});
