import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HOOK_PROVIDERS, type HookProvider } from './hook-secret';
import { signatureHeader, verifySignature, type HeaderBag } from './signature';

const SECRET = 'dGhpcy1pcy1hLXRlc3Qtc2VjcmV0LW9mLTMyLWJ5dGVz';
const BODY = Buffer.from('{"ref":"refs/heads/main","after":"' + 'a'.repeat(40) + '"}');
const hex = (secret: string, body: Buffer | string) => createHmac('sha256', secret).update(body).digest('hex');
const signed = (provider: HookProvider, secret = SECRET, body: Buffer | string = BODY): HeaderBag => Object.fromEntries([signatureHeader(provider, secret, body)]);

describe('verifySignature', () => {
  it.each(HOOK_PROVIDERS)('%s: accepts the provider’s own signature of the raw bytes', (provider) => {
    expect(verifySignature(provider, signed(provider), BODY, SECRET)).toBe(true);
  });

  it.each(HOOK_PROVIDERS)('%s: refuses another secret, a missing header, and an empty or missing stored secret', (provider) => {
    expect(verifySignature(provider, signed(provider, 'another-secret'), BODY, SECRET)).toBe(false);
    expect(verifySignature(provider, {}, BODY, SECRET)).toBe(false);
    // Anyone can compute an HMAC keyed with "": an app without a secret never verifies.
    expect(verifySignature(provider, signed(provider, ''), BODY, '')).toBe(false);
    expect(verifySignature(provider, signed(provider, ''), BODY, null)).toBe(false);
    expect(verifySignature(provider, signed(provider), BODY, undefined)).toBe(false);
  });

  it.each(HOOK_PROVIDERS.filter((p) => p !== 'gitlab'))('%s: a signature is over the exact bytes (one changed byte fails)', (provider) => {
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(BODY.toString()), null, 1));
    expect(verifySignature(provider, signed(provider), reformatted, SECRET)).toBe(false);
    expect(verifySignature(provider, signed(provider), Buffer.concat([BODY, Buffer.from(' ')]), SECRET)).toBe(false);
  });

  const good = hex(SECRET, BODY);
  it.each<[HookProvider, string, string]>([
    ['github', 'x-hub-signature-256', good],
    ['github', 'x-hub-signature-256', `sha1=${good}`],
    ['github', 'x-hub-signature-256', `sha256=${good.slice(0, 62)}`],
    ['github', 'x-hub-signature-256', `sha256=${good}00`],
    ['github', 'x-hub-signature-256', `sha256=${good.slice(0, 63)}z`],
    ['github', 'x-hub-signature-256', `sha256= ${good}`],
    ['gitea', 'x-gitea-signature', `sha256=${good}`],
    ['gitea', 'x-gitea-signature', good.slice(0, 32)],
    ['generic', 'x-karvon-signature', good],
    ['generic', 'x-karvon-signature', 'sha256='],
    ['gitlab', 'x-gitlab-token', `${SECRET} `],
    ['gitlab', 'x-gitlab-token', SECRET.slice(0, -1)],
    ['gitlab', 'x-gitlab-token', ''],
  ])('%s: refuses %s: %j', (provider, header, value) => {
    expect(verifySignature(provider, { [header]: value }, BODY, SECRET)).toBe(false);
  });

  it('accepts upper-case hex (the bytes are compared, not the text)', () => {
    expect(verifySignature('gitea', { 'x-gitea-signature': good.toUpperCase() }, BODY, SECRET)).toBe(true);
  });

  it('treats a repeated signature header as absent', () => {
    expect(verifySignature('github', { 'x-hub-signature-256': [`sha256=${good}`, `sha256=${good}`] }, BODY, SECRET)).toBe(false);
  });

  it("does not take another provider's header", () => {
    expect(verifySignature('github', { 'x-gitea-signature': good }, BODY, SECRET)).toBe(false);
    expect(verifySignature('gitea', { 'x-hub-signature-256': `sha256=${good}` }, BODY, SECRET)).toBe(false);
    expect(verifySignature('generic', { 'x-hub-signature-256': `sha256=${good}` }, BODY, SECRET)).toBe(false);
    expect(verifySignature('gitlab', { 'x-karvon-signature': `sha256=${good}` }, BODY, SECRET)).toBe(false);
  });
});
