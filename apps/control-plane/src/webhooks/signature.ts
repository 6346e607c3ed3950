// Is this delivery from someone who holds the hook's secret? Checked on the raw request bytes,
// before anything in the body is read. Each provider proves it differently (API.md "Git push
// webhooks"); all comparisons are timing-safe, and an empty or missing secret never verifies —
// an HMAC keyed with "" is computable by anyone.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { HookProvider } from './hook-secret';

export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** One header value; a repeated header is ambiguous, so it counts as absent. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return typeof v === 'string' ? v : undefined;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** timingSafeEqual throws on unequal lengths; compare lengths first (lengths are not secret here). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function hmacMatches(secret: string, rawBody: Buffer, hex: string | undefined): boolean {
  if (hex === undefined || !SHA256_HEX.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return sameBytes(Buffer.from(hex, 'hex'), expected);
}

/** `sha256=<hex>` as GitHub and the generic format send it. */
function prefixedHex(value: string | undefined): string | undefined {
  return value?.startsWith('sha256=') ? value.slice('sha256='.length) : undefined;
}

/**
 * GitLab sends the secret itself. Both sides are hashed first so the compare is over equal
 * lengths and says nothing about the secret's length.
 */
function tokenMatches(secret: string, token: string | undefined): boolean {
  if (token === undefined || token.length === 0) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return sameBytes(digest(token), digest(secret));
}

export function verifySignature(provider: HookProvider, headers: HeaderBag, rawBody: Buffer, secret: string | null | undefined): boolean {
  if (!secret) return false;
  switch (provider) {
    case 'github':
      return hmacMatches(secret, rawBody, prefixedHex(headerValue(headers, 'x-hub-signature-256')));
    case 'gitea':
      return hmacMatches(secret, rawBody, headerValue(headers, 'x-gitea-signature'));
    case 'generic':
      return hmacMatches(secret, rawBody, prefixedHex(headerValue(headers, 'x-karvon-signature')));
    case 'gitlab':
      return tokenMatches(secret, headerValue(headers, 'x-gitlab-token'));
  }
}

/** What a sender computes: the value of the provider's signature header (tests and docs use it). */
export function signatureHeader(provider: HookProvider, secret: string, rawBody: Buffer | string): [string, string] {
  const hex = createHmac('sha256', secret).update(rawBody).digest('hex');
  switch (provider) {
    case 'github':
      return ['x-hub-signature-256', `sha256=${hex}`];
    case 'gitea':
      return ['x-gitea-signature', hex];
    case 'generic':
      return ['x-karvon-signature', `sha256=${hex}`];
    case 'gitlab':
      return ['x-gitlab-token', secret];
  }
}
