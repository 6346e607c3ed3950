import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isDomainError } from '../domain/errors';
import { envVarAad } from './env-vars';
import { createSecretBox, secretBoxFromMasterKeys, secretKeyFromMaster } from './secret-box';

const key = (id: string) => ({ id, key: randomBytes(32) });
const aad = envVarAad('app_1', 'DATABASE_URL');

function reasonOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    if (isDomainError(e)) return { code: e.code, reason: e.details?.reason };
    throw e;
  }
  throw new Error('expected a refusal');
}

/** flips one bit of the decoded payload at `at` and re-encodes */
function flip(ciphertext: string, at: number): string {
  const [v, id, body] = ciphertext.split('.');
  const raw = Buffer.from(body!, 'base64url');
  raw[at] = raw[at]! ^ 1;
  return `${v}.${id}.${raw.toString('base64url')}`;
}

describe('secret box', () => {
  it('seals and opens, with the version and key id in the ciphertext and a fresh IV each time', () => {
    const box = createSecretBox({ current: key('k1') });
    const a = box.seal('postgres://u:p@db/x', aad);
    const b = box.seal('postgres://u:p@db/x', aad);
    expect(a).toMatch(/^v1\.k1\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('postgres');
    expect(box.open(a, aad)).toBe('postgres://u:p@db/x');
    expect(box.keyIdOf(a)).toBe('k1');
  });

  it('round-trips empty, multi-line and non-ASCII values', () => {
    const box = createSecretBox({ current: key('k1') });
    for (const v of ['', '-----BEGIN KEY-----\nabc\n-----END KEY-----\n', 'Тошкент ✓ 🚀']) expect(box.open(box.seal(v, aad), aad)).toBe(v);
  });

  it('refuses a tampered IV, tag or ciphertext byte', () => {
    const box = createSecretBox({ current: key('k1') });
    const sealed = box.seal('secret value', aad);
    for (const at of [0, 12, 28]) expect(reasonOf(() => box.open(flip(sealed, at), aad))).toEqual({ code: 'INTERNAL', reason: 'auth-failed' });
  });

  it('refuses a value moved to another app or another name (wrong AAD)', () => {
    const box = createSecretBox({ current: key('k1') });
    const sealed = box.seal('secret value', aad);
    expect(reasonOf(() => box.open(sealed, envVarAad('app_2', 'DATABASE_URL')))).toEqual({ code: 'INTERNAL', reason: 'auth-failed' });
    expect(reasonOf(() => box.open(sealed, envVarAad('app_1', 'OTHER')))).toEqual({ code: 'INTERNAL', reason: 'auth-failed' });
  });

  it('refuses an unknown key id and an edited key id', () => {
    const k1 = key('k1');
    const box = createSecretBox({ current: k1 });
    const sealed = box.seal('secret value', aad);
    const other = createSecretBox({ current: key('k2') });
    expect(reasonOf(() => other.open(sealed, aad))).toEqual({ code: 'INTERNAL', reason: 'unknown-key' });
    // Same key material under another id still fails: the id is authenticated.
    const aliased = createSecretBox({ current: k1, previous: [{ id: 'k9', key: k1.key }] });
    expect(reasonOf(() => aliased.open(sealed.replace('v1.k1.', 'v1.k9.'), aad))).toEqual({ code: 'INTERNAL', reason: 'auth-failed' });
  });

  it('refuses malformed input', () => {
    const box = createSecretBox({ current: key('k1') });
    for (const bad of ['', 'plaintext', 'v2.k1.AAAA', 'v1.k1.', 'v1.k1.AAAA', 'v1.k.1.AAAA']) {
      expect(reasonOf(() => box.open(bad, aad))).toMatchObject({ code: 'INTERNAL' });
    }
    expect(box.keyIdOf('plaintext')).toBeUndefined();
  });

  it('rotates: a new current key seals, a previous key still opens old values', () => {
    const old = key('old');
    const before = createSecretBox({ current: old });
    const sealedBefore = before.seal('v1 value', aad);
    const fresh = key('new');
    const after = createSecretBox({ current: fresh, previous: [old] });
    expect(after.currentKeyId).toBe('new');
    expect(after.open(sealedBefore, aad)).toBe('v1 value');
    const resealed = after.seal(after.open(sealedBefore, aad), aad);
    expect(after.keyIdOf(resealed)).toBe('new');
    // Once the old key is dropped, re-sealed values open and unmoved ones are reported, not garbled.
    const later = createSecretBox({ current: fresh });
    expect(later.open(resealed, aad)).toBe('v1 value');
    expect(reasonOf(() => later.open(sealedBefore, aad))).toEqual({ code: 'INTERNAL', reason: 'unknown-key' });
  });

  it('refuses bad keys at construction', () => {
    expect(() => createSecretBox({ current: { id: 'k1', key: randomBytes(16) } })).toThrow(/32 bytes/);
    expect(() => createSecretBox({ current: { id: 'bad.id', key: randomBytes(32) } })).toThrow(/key id/);
    expect(() => createSecretBox({ current: key('k1'), previous: [key('k1')] })).toThrow(/two different keys/);
  });

  it('derives a stable key and id from a master key; rotation of the master keeps old values readable', () => {
    const m1 = randomBytes(32);
    const m2 = randomBytes(32);
    expect(secretKeyFromMaster(m1)).toEqual(secretKeyFromMaster(Buffer.from(m1)));
    expect(secretKeyFromMaster(m1).id).not.toBe(secretKeyFromMaster(m2).id);
    expect(secretKeyFromMaster(m1).key.equals(m1)).toBe(false);
    const sealed = secretBoxFromMasterKeys(m1).seal('x', aad);
    expect(secretBoxFromMasterKeys(m2, [m1]).open(sealed, aad)).toBe('x');
    expect(reasonOf(() => secretBoxFromMasterKeys(m2).open(sealed, aad))).toEqual({ code: 'INTERNAL', reason: 'unknown-key' });
  });
});
