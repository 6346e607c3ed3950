// Batched admission against real PostgreSQL: many hellos at once share statements, each node's
// session generation still goes up once per admission, and a revoked node is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmissions } from '../src/hub/admissions';
import type { ApiClient } from '../../../test/api-client';
import { registerNode, sampleFacts } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { eventually } from '../../../test/eventually';

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

  it('token exchanges arriving together: each node its own token and audit row; revoked and unknown credentials refused', async () => {
    const nodes = await Promise.all(Array.from({ length: 30 }, () => registerNode(admin, 'adm-tok')));
    const revoked = nodes[7]!;
    await cp.db('nodes').where({ id: revoked.nodeId }).update({ revoked_at: cp.db.fn.now() });
    const unknown = `kvn_${'A'.repeat(43)}`;
    const exchange = (credential: string) => cp.api.post<{ token?: string; error?: { code: string; details?: { reason?: string } } }>('/api/v1/agent/token', undefined, { token: credential });
    const [answers, refusedUnknown] = await Promise.all([Promise.all(nodes.map((n) => exchange(n.credential))), exchange(unknown)]);
    expect(refusedUnknown.status).toBe(401);
    expect(answers[7]!.status).toBe(401);
    expect(JSON.stringify(answers[7]!.body)).toContain('NODE_REVOKED');
    const issued = answers.filter((_, i) => i !== 7);
    expect(issued.every((a) => a.status === 200)).toBe(true);
    // each token is for the node whose credential bought it
    const subjects = issued.map((a) => JSON.parse(Buffer.from(a.body.token!.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string }).map((c) => c.sub);
    expect(subjects).toEqual(nodes.filter((_, i) => i !== 7).map((n) => n.nodeId));
    await eventually(async () => {
      const rows = await cp.db('audit_log').where({ action: 'node.token' }).whereIn('actor_id', nodes.map((n) => n.nodeId)).select<Array<{ actor_id: string; status: number }>>('actor_id', 'status');
      expect(rows.filter((r) => r.status === 200).map((r) => r.actor_id).sort()).toEqual(nodes.filter((_, i) => i !== 7).map((n) => n.nodeId).sort());
    });
  });
});
