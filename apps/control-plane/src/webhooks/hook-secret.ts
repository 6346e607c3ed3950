// A hook's identity and secret, decided in pure code. The id is public (it is in the URL the git
// host calls); the secret is what proves a delivery came from whoever the customer gave it to.
// Secrets are sealed with the secret box under an AAD naming the app and the purpose, so a
// ciphertext copied to another app's row (or into an env var) fails to open.
import { randomBytes } from 'node:crypto';
import { newId } from '../db/ids';

export const HOOK_PROVIDERS = ['github', 'gitlab', 'gitea', 'generic'] as const;
export type HookProvider = (typeof HOOK_PROVIDERS)[number];

/** Hook ids as newHookId makes them; anything else is unknown without a lookup. */
export const HOOK_ID = /^whk_[0-9a-z]{20}$/;

export const newHookId = (): string => newId('whk');

/** 32 random bytes, base64url: 43 characters, fits every provider's secret field. */
export const newHookSecret = (): string => randomBytes(32).toString('base64url');

export const hookSecretAad = (appId: string): string => `karvon/webhook-secret/v1\0${appId}`;

/** Enough to tell two secrets apart in the panel, too little to help a guesser. */
export const secretHint = (secret: string): string => secret.slice(-4);

/** Every provider's URL for one hook; `generic` is the one API.md's single `url` names. */
export function hookUrls(publicUrl: string, hookId: string): Record<HookProvider, string> {
  const base = publicUrl.replace(/\/+$/, '');
  return Object.fromEntries(HOOK_PROVIDERS.map((p) => [p, `${base}/hooks/${p}/${hookId}`])) as Record<HookProvider, string>;
}
