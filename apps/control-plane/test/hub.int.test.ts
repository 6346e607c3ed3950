// The agent socket under bad input: every refusal is coded, and no bad peer harms another agent.
import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_CODES, MAX_FRAME_BYTES } from '@karvon/protocol';
import { deriveKey } from '../src/auth/master-key';
import type { ApiClient } from '../../../test/api-client';
import { agentToken, connectRawAgent, registerNode, registrationToken, sampleFacts, sampleHeartbeat, type RawAgent } from '../../../test/agents';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { eventually } from '../../../test/eventually';

const masterKey = randomBytes(32);
let cp: TestControlPlane;
let admin: ApiClient;
const open: RawAgent[] = [];

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_MASTER_KEY: masterKey.toString('base64'), KARVON_PUBLIC_URL: 'http://karvon.test', KARVON_HEARTBEAT_SECONDS: '1' });
  admin = await cp.adminClient();
});
afterAll(async () => {
  for (const a of open) a.ws.terminate();
  await cp?.stop();
});

async function connect(token: string | undefined): Promise<RawAgent> {
  const a = await connectRawAgent(cp.url, token);
  open.push(a);
  return a;
}

async function admitted(region = 'hub-1'): Promise<{ agent: RawAgent; nodeId: string; credential: string }> {
  const node = await registerNode(admin, region);
  const agent = await connect(await agentToken(cp.api, node.credential));
  agent.hello();
  await agent.nextFrame('welcome');
  return { agent, ...node };
}

async function refusedStatus(token: string | undefined): Promise<number> {
  try {
    await connect(token);
    return 101;
  } catch (e) {
    return (e as { status: number }).status;
  }
}

async function signAgentJwt(sub: string, opts: { aud?: string; exp?: number; key?: Buffer } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer('http://karvon.test')
    .setAudience(opts.aud ?? 'agent')
    .setIssuedAt(now - 10)
    .setExpirationTime(now + (opts.exp ?? 300))
    .sign(opts.key ?? deriveKey(masterKey, 'jwt-agent'));
}

describe('registration', () => {
  it('registers with a token once; a reused, unknown or expired token gets 401 and creates nothing', async () => {
    const token = await registrationToken(admin, 'hub-1');
    const body = { token, hostname: 'once', facts: sampleFacts() };
    const first = await cp.api.post<{ nodeId: string; credential: string }>('/api/v1/agent/register', body);
    expect(first.status).toBe(201);
    expect(first.body.credential).toMatch(/^kvn_/);
    const before = await cp.db('nodes').count<{ n: string }[]>({ n: '*' });
    expect((await cp.api.post('/api/v1/agent/register', body)).status).toBe(401);
    expect((await cp.api.post('/api/v1/agent/register', { ...body, token: 'kvj_' + 'x'.repeat(43) })).status).toBe(401);
    const expiring = await registrationToken(admin, 'hub-1', { ttlSeconds: 60 });
    await cp.db('node_registration_tokens').whereNull('used_at').update({ expires_at: cp.db.raw(`now() - interval '1 second'`) });
    expect((await cp.api.post('/api/v1/agent/register', { ...body, token: expiring })).status).toBe(401);
    const after = await cp.db('nodes').count<{ n: string }[]>({ n: '*' });
    expect(after[0]!.n).toBe(before[0]!.n);
    const stored = await cp.db('nodes').where({ id: first.body.nodeId }).first<{ credential_hash: string }>();
    expect(JSON.stringify(stored)).not.toContain(first.body.credential);
  });

  it('refuses bad registration input with 400 naming the field, before using the token', async () => {
    const token = await registrationToken(admin, 'hub-1');
    const bad = await cp.api.post('/api/v1/agent/register', { token, hostname: 'x; rm -rf /', facts: sampleFacts() });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { message: string } }).error.message).toContain('hostname');
    const badFacts = await cp.api.post('/api/v1/agent/register', { token, hostname: 'ok', facts: { ...sampleFacts(), cpu: { cores: -1, model: '' } } });
    expect(badFacts.status).toBe(400);
    expect((await cp.api.post('/api/v1/agent/register', { token, hostname: 'ok', facts: sampleFacts() })).status).toBe(201);
  });

  it('admin token creation validates region and labels and answers an install command', async () => {
    expect((await admin.post('/api/v1/admin/node-tokens', { region: 'nowhere-9' })).status).toBe(400);
    expect((await admin.post('/api/v1/admin/node-tokens', { region: 'hub-1', labels: ['Bad Label'] })).status).toBe(400);
    const ok = await admin.post<{ token: string; installCommand: string; expiresAt: string }>('/api/v1/admin/node-tokens', { region: 'hub-1', labels: ['builder'] });
    expect(ok.status).toBe(201);
    expect(ok.body.installCommand).toContain(ok.body.token);
    expect(Date.parse(ok.body.expiresAt)).toBeGreaterThan(Date.now());
    const customer = (await cp.api.newCustomer()).client;
    expect((await customer.post('/api/v1/admin/node-tokens', { region: 'hub-1' })).status).toBe(403);
  });
});

describe('upgrade authentication', () => {
  it('refuses the upgrade without a token, with a user token, alg none, an expired or foreign-key JWT', async () => {
    const { nodeId } = await registerNode(admin, 'hub-1');
    const userToken = (await cp.api.newCustomer()).session.accessToken;
    const none = new UnsecuredJWT({}).setSubject(nodeId).setIssuer('http://karvon.test').setAudience('agent').setExpirationTime('5m').encode();
    expect(await refusedStatus(undefined)).toBe(401);
    expect(await refusedStatus(userToken)).toBe(401);
    expect(await refusedStatus(none)).toBe(401);
    expect(await refusedStatus(await signAgentJwt(nodeId, { exp: -10 }))).toBe(401);
    expect(await refusedStatus(await signAgentJwt(nodeId, { aud: 'user', key: deriveKey(masterKey, 'jwt-user') }))).toBe(401);
    expect(await refusedStatus(await signAgentJwt(nodeId, { key: randomBytes(32) }))).toBe(401);
    expect(await refusedStatus(await signAgentJwt('node_doesnotexist0000000'))).toBe(401);
    // Control: the same construction with the right key and audience is accepted.
    expect(await refusedStatus(await signAgentJwt(nodeId))).toBe(101);
  });

  it('refuses a credential that is not a node credential', async () => {
    const apiToken = await (await cp.api.newCustomer()).client.post<{ token: string }>('/api/v1/api-tokens', { name: 'x' });
    expect((await cp.api.post('/api/v1/agent/token', undefined, { token: apiToken.body.token })).status).toBe(401);
    expect((await cp.api.post('/api/v1/agent/token')).status).toBe(401);
  });
});

describe('frames', () => {
  it('welcomes a hello with the heartbeat interval and a session generation', async () => {
    const node = await registerNode(admin, 'hub-1');
    const agent = await connect(await agentToken(cp.api, node.credential));
    agent.hello();
    const welcome = await agent.nextFrame('welcome');
    expect(welcome.payload).toMatchObject({ nodeId: node.nodeId, heartbeatIntervalMs: 1000, sessionGeneration: 1 });
  });

  it('refuses a frame before hello with UNEXPECTED_FRAME and closes', async () => {
    const node = await registerNode(admin, 'hub-1');
    const agent = await connect(await agentToken(cp.api, node.credential));
    agent.send('heartbeat', sampleHeartbeat());
    const err = await agent.nextFrame('error');
    expect(err.payload.code).toBe('UNEXPECTED_FRAME');
    expect((await agent.closed).code).toBe(CLOSE_CODES.MALFORMED);
  });

  it('answers an incompatible protocol version with a coded close', async () => {
    const node = await registerNode(admin, 'hub-1');
    const agent = await connect(await agentToken(cp.api, node.credential));
    agent.hello({ protocolVersion: '2.0' });
    expect((await agent.nextFrame('error')).payload.code).toBe('PROTOCOL_VERSION_UNSUPPORTED');
    const closed = await agent.closed;
    expect(closed.code).toBe(CLOSE_CODES.PROTOCOL_VERSION_UNSUPPORTED);
    expect(closed.reason).toContain('major');
  });

  it('answers malformed frames with coded errors, keeps the socket, and keeps serving a healthy peer', async () => {
    const { agent } = await admitted();
    const bystander = await admitted();
    const cases: Array<[string | Buffer, string]> = [
      ['{not json', 'MALFORMED_JSON'],
      ['[]', 'INVALID_FRAME'],
      ['"hello"', 'INVALID_FRAME'],
      ['{"type":"teleport","payload":{}}', 'UNKNOWN_FRAME_TYPE'],
      ['{"type":"heartbeat","payload":{"usage":"lots"}}', 'INVALID_FRAME'],
      ['{"type":"desired-state","payload":{}}', 'UNEXPECTED_FRAME'],
      ['{"type":"welcome","payload":{}}', 'UNEXPECTED_FRAME'],
      [Buffer.from([0xff, 0x00, 0x13]), 'MALFORMED_JSON'],
    ];
    for (const [raw, code] of cases) {
      agent.sendRaw(raw);
      const err = await agent.nextFrame('error');
      expect(err.payload.code, String(raw)).toBe(code);
    }
    expect(agent.ws.readyState).toBe(agent.ws.OPEN);
    bystander.agent.send('token-refresh-request', {});
    expect((await bystander.agent.nextFrame('token-refresh')).payload.token).toEqual(expect.any(String));
  });

  it('closes a socket that sends a frame over the size limit', async () => {
    const { agent } = await admitted();
    agent.sendRaw('x'.repeat(MAX_FRAME_BYTES['to-control-plane'] + 1));
    expect((await agent.closed).code).toBe(1009);
  });

  it('closes a flooding agent with a coded close and keeps the others', async () => {
    const { agent } = await admitted();
    const bystander = await admitted();
    const frame = JSON.stringify({ type: 'token-refresh-request', payload: {} });
    for (let i = 0; i < 2_000 && agent.ws.readyState === agent.ws.OPEN; i++) agent.sendRaw(frame);
    expect((await agent.closed).code).toBe(CLOSE_CODES.POLICY_VIOLATION);
    bystander.agent.send('token-refresh-request', {});
    await bystander.agent.nextFrame('token-refresh');
  });

  it('a second connection supersedes the first; the old socket is closed and its frames ignored', async () => {
    const node = await registerNode(admin, 'hub-1');
    const first = await connect(await agentToken(cp.api, node.credential));
    first.hello();
    const w1 = await first.nextFrame('welcome');
    const second = await connect(await agentToken(cp.api, node.credential));
    second.hello();
    const w2 = await second.nextFrame('welcome');
    expect(Number(w2.payload.sessionGeneration)).toBeGreaterThan(Number(w1.payload.sessionGeneration));
    expect((await first.nextFrame('error')).payload.code).toBe('SUPERSEDED');
    expect((await first.closed).code).toBe(CLOSE_CODES.SUPERSEDED);
    expect(cp.hub.connectedNodeIds()).toContain(node.nodeId);
    second.send('token-refresh-request', {});
    await second.nextFrame('token-refresh');
  });
});

describe('revocation', () => {
  it('DELETE closes the socket at once, and the credential buys nothing afterwards', async () => {
    const { agent, nodeId, credential } = await admitted();
    expect((await admin.delete(`/api/v1/admin/nodes/${nodeId}`)).status).toBe(204);
    expect((await agent.nextFrame('error')).payload.code).toBe('NODE_REVOKED');
    expect((await agent.closed).code).toBe(CLOSE_CODES.NODE_REVOKED);
    const res = await cp.api.post<{ error: { details?: { reason?: string } } }>('/api/v1/agent/token', undefined, { token: credential });
    expect(res.status).toBe(401);
    expect(res.body.error.details?.reason).toBe('NODE_REVOKED');
    expect((await admin.get(`/api/v1/admin/nodes/${nodeId}`)).status).toBe(404);
  });
});

describe('revocation through another control plane', () => {
  it('closes the socket at once when the node is revoked by a process that does not hold it', async () => {
    const { connectDatabase } = await import('../src/db/connect');
    const { revokeNode } = await import('../src/nodes/node-admin');
    const { agent, nodeId } = await admitted();
    const elsewhere = connectDatabase(cp.databaseUrl);
    try {
      await revokeNode(elsewhere, nodeId);
    } finally {
      await elsewhere.destroy();
    }
    expect((await agent.nextFrame('error')).payload.code).toBe('NODE_REVOKED');
    expect((await agent.closed).code).toBe(CLOSE_CODES.NODE_REVOKED);
  });
});

describe('heartbeats and liveness persistence', () => {
  it('keeps heartbeats in memory and writes them in one transaction a second, with usage, degraded flag and minute metrics', async () => {
    const agents = await Promise.all([admitted(), admitted(), admitted()]);
    const before = cp.liveness.transactions;
    const started = Date.now();
    let sent = 0;
    while (Date.now() - started < 2_000) {
      for (const a of agents) {
        a.agent.send('heartbeat', sampleHeartbeat({ usage: { ...sampleHeartbeat().usage, cpuPercent: 95, memoryUsedMb: 2048 } }));
        sent += 1;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const elapsedS = (Date.now() - started) / 1000;
    const transactions = cp.liveness.transactions - before;
    expect(sent).toBeGreaterThan(100);
    expect(transactions).toBeLessThanOrEqual(Math.ceil(elapsedS) + 1);
    await cp.liveness.flush();
    const view = await admin.get<{ status: string; degraded: boolean; usage: { cpuPercent: number; memoryMb: number }; lastHeartbeatAt: string }>(
      `/api/v1/admin/nodes/${agents[0].nodeId}`,
    );
    expect(view.body).toMatchObject({ status: 'online', degraded: true, usage: { cpuPercent: 95, memoryMb: 2048 } });
    // A session that ends closes its current minute; the point is written at the next flush.
    // The heartbeats may straddle a minute boundary: then the earlier minute was written when it
    // ended, and there is one point per minute the session spanned, the last for the close's minute.
    agents[0].agent.ws.close();
    await agents[0].agent.closed;
    const minute = (ms: number) => Math.floor(ms / 60_000);
    const spanned = Array.from({ length: minute(Date.now()) - minute(started) + 1 }, (_, i) => minute(started) + i);
    await eventually(async () => {
      await cp.liveness.flush();
      const metrics = await admin.get<{ items: Array<{ at: string; cpuPercent: number; memoryUsedMb: number }> }>(`/api/v1/admin/nodes/${agents[0].nodeId}/metrics`);
      expect(metrics.body.items.map((p) => minute(Date.parse(p.at)))).toEqual(spanned);
      for (const point of metrics.body.items) expect(point).toMatchObject({ cpuPercent: 95, memoryUsedMb: 2048 });
    });
  });

  it("records each allocation's reported state, and ignores reports about another node's allocations", async () => {
    const { createAppFixture } = await import('../../../test/fixtures');
    const mine = await admitted('hub-alloc');
    const other = await admitted('hub-alloc');
    const app = await createAppFixture(cp.db, 'hub-alloc');
    const res = await cp.planner.placeReplicas({ appId: app.appId, releaseId: app.releaseId, region: 'hub-alloc', resources: { cpuMillicores: 100, memoryMb: 64, diskMb: 10 }, replicas: 2, policy: 'spread', spec: app.spec });
    expect(res.ok).toBe(true);
    const allocs = res.ok ? res.allocations : [];
    const onMine = allocs.find((a) => a.nodeId === mine.nodeId)!;
    const onOther = allocs.find((a) => a.nodeId === other.nodeId)!;
    const report = (allocationId: string) => ({ allocationId, state: 'healthy', upstream: '127.0.0.1:20001', restarts: 2, message: 'ok' });
    mine.agent.send('heartbeat', sampleHeartbeat({ allocations: [report(onMine.id), report(onOther.id)] }));
    await eventually(async () => {
      await cp.liveness.flush();
      const row = await cp.db('allocations').where({ id: onMine.id }).first<{ actual_status: string; upstream: string; restarts: number }>();
      expect(row).toMatchObject({ actual_status: 'healthy', upstream: '127.0.0.1:20001', restarts: 2 });
    });
    const untouched = await cp.db('allocations').where({ id: onOther.id }).first<{ actual_status: string; upstream: string | null }>();
    expect(untouched).toMatchObject({ actual_status: 'pending', upstream: null });
  });

  it('refuses a bad metrics query with 400 naming the field', async () => {
    const { nodeId } = await registerNode(admin, 'hub-1');
    const res = await admin.get<{ error: { message: string } }>(`/api/v1/admin/nodes/${nodeId}/metrics?since=yesterday`);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('since');
  });

  it('prunes metric points older than seven days', async () => {
    const { nodeId } = await registerNode(admin, 'hub-1');
    await cp.db('node_metrics').insert([
      { node_id: nodeId, at: cp.db.raw(`now() - interval '8 days'`), cpu_percent: 1, memory_used_mb: 1, disk_used_mb: 1 },
      { node_id: nodeId, at: cp.db.raw(`now() - interval '6 days'`), cpu_percent: 2, memory_used_mb: 1, disk_used_mb: 1 },
    ]);
    const { createMetricsPruner } = await import('../src/jobs/metrics-pruner');
    const pruner = createMetricsPruner({ db: cp.db, logger: (await import('pino')).pino({ level: 'silent' }) });
    expect(await pruner.prune()).toBeGreaterThanOrEqual(1);
    const left = await cp.db('node_metrics').where({ node_id: nodeId }).pluck('cpu_percent');
    expect(left).toEqual([2]);
  });
});
