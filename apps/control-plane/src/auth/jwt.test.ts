import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenSigner } from './jwt';

describe('createTokenSigner verify', () => {
  it('answers a token verified before from memory, and still refuses it once it expires', async () => {
    let t = 1_700_000_000_000;
    const signer = createTokenSigner<{ role: string }>({ key: randomBytes(32), issuer: 'http://k.test', audience: 'user', ttlSeconds: 60, now: () => t });
    const { token } = await signer.sign('usr_1', { role: 'customer' });
    expect((await signer.verify(token)).sub).toBe('usr_1');
    t += 59_999;
    expect((await signer.verify(token)).sub).toBe('usr_1');
    t += 1;
    await expect(signer.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'token expired' });
  });

  it('never remembers a refusal nor accepts a token of another key or audience', async () => {
    const key = randomBytes(32);
    const users = createTokenSigner<{ role: string }>({ key, issuer: 'http://k.test', audience: 'user', ttlSeconds: 60 });
    const agents = createTokenSigner<{ role: string }>({ key, issuer: 'http://k.test', audience: 'agent', ttlSeconds: 60 });
    const other = createTokenSigner<{ role: string }>({ key: randomBytes(32), issuer: 'http://k.test', audience: 'user', ttlSeconds: 60 });
    const { token } = await users.sign('usr_1', { role: 'customer' });
    await users.verify(token);
    await expect(agents.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(other.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    await expect(users.verify(tampered)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(users.verify(tampered)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('createTokenSigner with its key imported once', () => {
  it('signs tokens any HS256 verifier of the same key accepts, and still pins the algorithm', async () => {
    const key = randomBytes(32);
    const signer = createTokenSigner<{ role: string }>({ key, issuer: 'http://k.test', audience: 'agent', ttlSeconds: 60 });
    const { token } = await signer.sign('nod_1', { role: 'agent' });
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], audience: 'agent', issuer: 'http://k.test' });
    expect(payload.sub).toBe('nod_1');
    const hs512 = await new SignJWT({ role: 'agent' })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('nod_1')
      .setIssuer('http://k.test')
      .setAudience('agent')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(key);
    await expect(signer.verify(hs512)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const [a, b] = await Promise.all([signer.sign('nod_2', { role: 'agent' }), signer.sign('nod_3', { role: 'agent' })]);
    expect((await signer.verify(a.token)).sub).toBe('nod_2');
    expect((await signer.verify(b.token)).sub).toBe('nod_3');
  });
});
