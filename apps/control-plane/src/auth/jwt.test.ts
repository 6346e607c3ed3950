import { randomBytes } from 'node:crypto';
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
