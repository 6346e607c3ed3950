import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient, ApiErrorBody } from '../../../test/api-client';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { eventually } from '../../../test/eventually';

let cp: TestControlPlane;

beforeAll(async () => {
  cp = await startTestControlPlane({ KARVON_MUTATIONS_PER_MINUTE: '8', KARVON_MUTATION_BURST: '5' });
});
afterAll(async () => {
  await cp?.stop();
});

const createToken = (c: ApiClient, i: number) => c.post('/api/v1/api-tokens', { name: `t${i}` });

describe('mutation rate limits', () => {
  it('allows the burst, then answers 429 RATE_LIMITED with Retry-After and stores nothing more', async () => {
    const { client, session } = await cp.api.newCustomer();
    for (let i = 0; i < 5; i++) expect((await createToken(client, i)).status).toBe(201);
    const refused = await createToken(client, 5);
    expect(refused.status).toBe(429);
    expect((refused.body as ApiErrorBody).error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(await cp.db('api_tokens').where({ user_id: session.user.id })).toHaveLength(5);
    // refused calls are audited like any other mutation (written once the response is sent)
    await eventually(async () => expect(await cp.db('audit_log').where({ actor_id: session.user.id, status: 429 })).toHaveLength(1));
  });

  it('does not count reads, and keeps other users and anonymous calls apart', async () => {
    const a = await cp.api.newCustomer();
    const b = await cp.api.newCustomer();
    for (let i = 0; i < 5; i++) await createToken(a.client, i);
    expect((await createToken(a.client, 9)).status).toBe(429);
    for (let i = 0; i < 10; i++) expect((await a.client.get('/api/v1/api-tokens')).status).toBe(200);
    expect((await createToken(b.client, 0)).status).toBe(201);
    // login and refresh are anonymous: their own limits apply, not this one
    expect((await cp.api.login(a.email, a.password)).status).toBe(200);
    expect((await cp.api.refresh(a.session.refreshToken)).status).toBe(200);
  });

  it("shares one budget across a user's API tokens", async () => {
    const { client } = await cp.api.newCustomer();
    const created = await client.post<{ token: string }>('/api/v1/api-tokens', { name: 'ci' });
    const viaToken = client.as(created.body.token);
    for (let i = 0; i < 4; i++) expect((await createToken(viaToken, i)).status).toBe(201);
    expect((await createToken(client, 99)).status).toBe(429);
    expect((await createToken(viaToken, 99)).status).toBe(429);
  });

  it('does not limit the operator', async () => {
    const admin = await cp.adminClient();
    for (let i = 0; i < 12; i++) expect((await admin.post('/api/v1/admin/regions', { id: `rl-${i}`, name: `r${i}` })).status).toBe(201);
  });
});
