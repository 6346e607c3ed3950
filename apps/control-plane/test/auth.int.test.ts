import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey } from '../src/auth/master-key';
import { PRINCIPAL_TTL_MS } from '../src/auth/principal-cache';
import type { ApiErrorBody, SessionBody } from '../../../test/api-client';
import { startTestControlPlane, type TestControlPlane } from '../../../test/control-plane';
import { eventually } from '../../../test/eventually';

const masterKey = randomBytes(32);
let cp: TestControlPlane;

beforeAll(async () => {
  cp = await startTestControlPlane(
    { KARVON_MASTER_KEY: masterKey.toString('base64'), KARVON_PUBLIC_URL: 'http://karvon.test' },
    {
      loginLimits: {
        perIp: { limit: 1_000, windowMs: 60_000 },
        perAccount: { limit: 5, windowMs: 60_000 },
      },
    },
  );
});
afterAll(async () => {
  await cp?.stop();
});

const errorCode = (body: unknown) => (body as ApiErrorBody).error.code;
const errorMessage = (body: unknown) => (body as ApiErrorBody).error.message;

async function userToken(claims: { sub: string; aud?: string; iss?: string; expSecondsFromNow?: number; key?: Buffer }) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'customer' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer(claims.iss ?? 'http://karvon.test')
    .setAudience(claims.aud ?? 'user')
    .setIssuedAt(now - 3600)
    .setExpirationTime(now + (claims.expSecondsFromNow ?? 600))
    .sign(claims.key ?? deriveKey(masterKey, 'jwt-user'));
}

describe('register and login', () => {
  it('registers a customer, logs in and answers /me', async () => {
    const reg = await cp.api.register('Alice@Example.test', 'a long enough password');
    expect(reg.status).toBe(201);
    expect(reg.body.user).toMatchObject({ email: 'alice@example.test', role: 'customer' });
    expect(reg.body.user.id).toMatch(/^usr_/);
    const login = await cp.api.login('alice@example.test', 'a long enough password');
    expect(login.status).toBe(200);
    const me = await cp.api.me({ token: login.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toEqual(reg.body.user);
  });

  it('refuses a duplicate email, whatever its case, with 409 and stores nothing', async () => {
    await cp.api.register('bob@example.test', 'a long enough password');
    const again = await cp.api.register('BOB@example.test', 'another password 1');
    expect(again.status).toBe(409);
    expect(errorCode(again.body)).toBe('CONFLICT');
    const rows = await cp.db('users').whereRaw('lower(email) = ?', ['bob@example.test']);
    expect(rows).toHaveLength(1);
  });

  it('lets exactly one of two concurrent sign-ups with one email win', async () => {
    const [a, b] = await Promise.all([
      cp.api.register('race@example.test', 'a long enough password'),
      cp.api.register('race@example.test', 'a long enough password'),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
  });

  it('answers 401 for a wrong password and for an unknown email alike', async () => {
    await cp.api.register('carol@example.test', 'a long enough password');
    const wrong = await cp.api.login('carol@example.test', 'not the password');
    const unknown = await cp.api.login('nobody@example.test', 'whatever it is');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(errorMessage(wrong.body)).toBe(errorMessage(unknown.body));
  });

  it('names the field on bad input and stores nothing', async () => {
    const short = await cp.api.register('dave@example.test', 'short');
    expect(short.status).toBe(400);
    expect(errorCode(short.body)).toBe('VALIDATION_FAILED');
    expect(errorMessage(short.body)).toContain('password');
    const badEmail = await cp.api.register('not-an-email', 'a long enough password');
    expect(badEmail.status).toBe(400);
    expect(errorMessage(badEmail.body)).toContain('email');
    const extra = await cp.api.post('/api/v1/auth/register', { email: 'erin@example.test', password: 'a long enough password', role: 'admin' });
    expect(extra.status).toBe(400);
    expect(errorMessage(extra.body)).toContain('role');
    expect(await cp.db('users').whereIn('email', ['dave@example.test', 'erin@example.test'])).toHaveLength(0);
  });

  it('refuses prototype keys without polluting anything', async () => {
    const res = await cp.api.post('/api/v1/auth/register', undefined, {
      rawBody: '{"email":"frank@example.test","password":"a long enough password","__proto__":{"role":"admin"}}',
    });
    expect(res.status).toBe(400);
    expect(({} as Record<string, unknown>).role).toBeUndefined();
  });

  it('answers 400 for malformed JSON and 413 for a body over the limit', async () => {
    const malformed = await cp.api.post('/api/v1/auth/login', undefined, { rawBody: '{"email": "x@y.z", ' });
    expect(malformed.status).toBe(400);
    expect(errorCode(malformed.body)).toBe('VALIDATION_FAILED');
    const huge = await cp.api.post('/api/v1/auth/login', undefined, {
      rawBody: JSON.stringify({ email: 'x@y.z', password: 'p'.repeat(2 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(errorCode(huge.body)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rate-limits login attempts per account', async () => {
    await cp.api.register('grace@example.test', 'a long enough password');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await cp.api.login('grace@example.test', 'wrong password')).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const limited = await cp.api.login('grace@example.test', 'a long enough password');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('access tokens', () => {
  let session: SessionBody;
  beforeAll(async () => {
    session = (await cp.api.newCustomer()).session;
  });

  it('answers 401 without a token and with a malformed Authorization header', async () => {
    expect((await cp.api.me()).status).toBe(401);
    expect((await cp.api.me({ headers: { authorization: 'Basic abc' } })).status).toBe(401);
  });

  it('answers 401 for an expired token', async () => {
    const expired = await userToken({ sub: session.user.id, expSecondsFromNow: -60 });
    const res = await cp.api.me({ token: expired });
    expect(res.status).toBe(401);
    expect(errorMessage(res.body)).toBe('token expired');
  });

  it('accepts a well-formed token signed with the right key (control for the cases below)', async () => {
    expect((await cp.api.me({ token: await userToken({ sub: session.user.id }) })).status).toBe(200);
  });

  it('answers 401 for alg none, wrong audience, wrong issuer, another key and a tampered payload', async () => {
    const none = new UnsecuredJWT({ role: 'admin' }).setSubject(session.user.id).setIssuer('http://karvon.test').setAudience('user').setExpirationTime('10m').encode();
    const agentAudience = await userToken({ sub: session.user.id, aud: 'agent' });
    const otherIssuer = await userToken({ sub: session.user.id, iss: 'http://evil.test' });
    const otherKey = await userToken({ sub: session.user.id, key: randomBytes(32) });
    const agentKey = await userToken({ sub: session.user.id, key: deriveKey(masterKey, 'jwt-agent') });
    const [h, , s] = session.accessToken.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: session.user.id, role: 'admin', aud: 'user', iss: 'http://karvon.test', exp: 9e9, iat: 1 })).toString('base64url');
    const tampered = `${h}.${forgedPayload}.${s}`;
    for (const token of [none, agentAudience, otherIssuer, otherKey, agentKey, tampered, 'not.a.jwt']) {
      const res = await cp.api.me({ token });
      expect(res.status, token).toBe(401);
      expect(errorCode(res.body)).toBe('UNAUTHENTICATED');
    }
  });
});

describe('refresh tokens', () => {
  it('rotates: the new pair works and the used refresh token is dead', async () => {
    const { session } = await cp.api.newCustomer();
    const first = await cp.api.refresh(session.refreshToken);
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(session.refreshToken);
    expect((await cp.api.me({ token: first.body.accessToken })).status).toBe(200);
    const reused = await cp.api.refresh(session.refreshToken);
    expect(reused.status).toBe(401);
    // Reuse of a spent token revokes the whole family, including the token that replaced it.
    expect((await cp.api.refresh(first.body.refreshToken)).status).toBe(401);
  });

  it('lets only one of two concurrent refreshes with one token succeed', async () => {
    const { session } = await cp.api.newCustomer();
    const results = await Promise.all([cp.api.refresh(session.refreshToken), cp.api.refresh(session.refreshToken)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('logout kills the refresh token', async () => {
    const { session } = await cp.api.newCustomer();
    expect((await cp.api.logout(session.refreshToken)).status).toBe(204);
    expect((await cp.api.refresh(session.refreshToken)).status).toBe(401);
  });

  it('stores refresh tokens only as hashes', async () => {
    const { session } = await cp.api.newCustomer();
    const rows = await cp.db('refresh_tokens').where({ user_id: session.user.id });
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(session.refreshToken);
  });

  it('answers 401 for an unknown refresh token and 400 for a missing one', async () => {
    expect((await cp.api.refresh('kvr_' + 'x'.repeat(43))).status).toBe(401);
    const missing = await cp.api.post('/api/v1/auth/refresh', {});
    expect(missing.status).toBe(400);
    expect(errorMessage(missing.body)).toContain('refreshToken');
  });
});

describe('API tokens', () => {
  it('creates a token shown once, authenticates with it, lists it without the secret and revokes it', async () => {
    const { client } = await cp.api.newCustomer();
    const created = await client.post<{ id: string; name: string; token: string }>('/api/v1/api-tokens', { name: 'ci' });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^kvt_/);
    const me = await cp.api.me({ token: created.body.token });
    expect(me.status).toBe(200);
    const list = await client.get<{ items: Array<Record<string, unknown>> }>('/api/v1/api-tokens');
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ id: created.body.id, name: 'ci' });
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);
    const stored: unknown = await cp.db('api_tokens').where({ id: created.body.id }).first();
    expect(JSON.stringify(stored)).not.toContain(created.body.token);
    expect((await client.delete(`/api/v1/api-tokens/${created.body.id}`)).status).toBe(204);
    expect((await cp.api.me({ token: created.body.token })).status).toBe(401);
  });

  it('refuses a token revoked by another control plane (in the database) within the principal cache TTL', async () => {
    const { client } = await cp.api.newCustomer();
    const created = await client.post<{ id: string; token: string }>('/api/v1/api-tokens', { name: 'elsewhere' });
    expect((await cp.api.me({ token: created.body.token })).status).toBe(200);
    const revokedAt = Date.now();
    await cp.db('api_tokens').where({ id: created.body.id }).update({ revoked_at: cp.db.fn.now() });
    await eventually(async () => expect((await cp.api.me({ token: created.body.token })).status).toBe(401), PRINCIPAL_TTL_MS + 3_000);
    expect(Date.now() - revokedAt).toBeLessThan(PRINCIPAL_TTL_MS + 3_000);
  });

  it('sees a role changed in the database within the principal cache TTL, whatever the access token says', async () => {
    const { session } = await cp.api.newCustomer();
    const token = session.accessToken;
    expect((await cp.api.get('/api/v1/admin/users', { token })).status).toBe(403);
    await cp.db('users').where({ id: session.user.id }).update({ role: 'admin' });
    await eventually(async () => expect((await cp.api.get('/api/v1/admin/users', { token })).status).toBe(200), PRINCIPAL_TTL_MS + 3_000);
    await cp.db('users').where({ id: session.user.id }).update({ role: 'customer' });
    await eventually(async () => expect((await cp.api.get('/api/v1/admin/users', { token })).status).toBe(403), PRINCIPAL_TTL_MS + 3_000);
  });

  it("answers 404 for another user's token and keeps it working", async () => {
    const alice = await cp.api.newCustomer();
    const bob = await cp.api.newCustomer();
    const created = await alice.client.post<{ id: string; token: string }>('/api/v1/api-tokens', { name: 'mine' });
    const res = await bob.client.delete(`/api/v1/api-tokens/${created.body.id}`);
    expect(res.status).toBe(404);
    expect((await cp.api.me({ token: created.body.token })).status).toBe(200);
  });

  it('refuses a nameless token with 400 naming the field', async () => {
    const { client } = await cp.api.newCustomer();
    const res = await client.post('/api/v1/api-tokens', { name: '' });
    expect(res.status).toBe(400);
    expect(errorMessage(res.body)).toContain('name');
    expect(await cp.db('api_tokens').where({ name: '' })).toHaveLength(0);
  });
});

describe('admin and audit', () => {
  it('ensures the configured admin at start', async () => {
    const admin = await cp.adminClient();
    const me = await admin.get<{ role: string; email: string }>('/api/v1/me');
    expect(me.body).toMatchObject({ role: 'admin', email: cp.admin.email });
  });

  it('writes an audit row for every mutating call, with actor, action and address', async () => {
    const { client, session } = await cp.api.newCustomer();
    const created = await client.post<{ id: string }>('/api/v1/api-tokens', { name: 'audited' });
    // Audit rows are written as the response finishes; poll briefly for them.
    const rows = await eventually(async () => {
      const found = (await cp.db('audit_log').where({ actor_id: session.user.id }).orderBy('id')) as Array<Record<string, unknown>>;
      expect(found.map((r) => r.action)).toEqual(expect.arrayContaining(['auth.register', 'api-token.create']));
      return found;
    });
    const tokenRow = rows.find((r) => r.action === 'api-token.create')!;
    expect(tokenRow).toMatchObject({ actor_type: 'user', target: `api-token:${created.body.id}`, status: 201 });
    expect(tokenRow.ip).toMatch(/127\.0\.0\.1/);
    await cp.api.login('nobody-here@example.test', 'wrong password!');
    await eventually(async () => {
      const failed: unknown = await cp.db('audit_log').where({ action: 'auth.login', target: 'email:nobody-here@example.test' }).first();
      expect(failed).toMatchObject({ actor_type: 'anonymous', status: 401 });
    });
  });
});

describe('errors and health', () => {
  it('answers unknown routes with the error shape', async () => {
    const res = await cp.api.get('/api/v1/nope');
    expect(res.status).toBe(404);
    expect(errorCode(res.body)).toBe('NOT_FOUND');
  });

  it('answers /healthz and /readyz', async () => {
    expect((await cp.api.get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await cp.api.get('/readyz')).status).toBe(200);
  });

  it('echoes a safe request id and replaces an unsafe one', async () => {
    expect((await cp.api.get('/healthz', { headers: { 'x-request-id': 'abc-123' } })).headers.get('x-request-id')).toBe('abc-123');
    const replaced = (await cp.api.get('/healthz', { headers: { 'x-request-id': 'bad id; with spaces' } })).headers.get('x-request-id');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });
});
