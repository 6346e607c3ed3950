// Storage of per-app hooks: the id in apps.webhook_id (unique, public, in the URL) and the secret
// sealed in apps.webhook_secret_ciphertext. Callers have already checked ownership (loadOwned).
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import type { AppSource } from '../apps/app-schemas';
import type { SecretBox } from '../secrets/secret-box';
import { HOOK_ID, hookSecretAad, newHookId, newHookSecret } from './hook-secret';

export interface HookColumns {
  webhook_id: string | null;
  webhook_secret_ciphertext: string | null;
}

export interface Hook {
  webhookId: string;
  secret: string;
}

/** Hooks deploy from git; an image app has nothing a push could change. */
export function requireGitSource(source: AppSource): void {
  if (source.type !== 'git') throw new DomainError('CONFLICT', 'webhooks are for apps with a git source; this app deploys an image');
}

/**
 * The app's hook, made on first use. Concurrent first reads race on `secret is null`: one
 * update wins, the other re-reads what it wrote, so both answer the same hook.
 */
export async function ensureHook(db: Db, secrets: SecretBox, app: { id: string } & HookColumns): Promise<{ hook: Hook; created: boolean }> {
  if (app.webhook_id && app.webhook_secret_ciphertext) {
    return { hook: { webhookId: app.webhook_id, secret: secrets.open(app.webhook_secret_ciphertext, hookSecretAad(app.id)) }, created: false };
  }
  const secret = newHookSecret();
  const [row] = await db('apps')
    .where({ id: app.id })
    .whereNull('webhook_secret_ciphertext')
    .update({ webhook_id: db.raw('coalesce(webhook_id, ?)', [newHookId()]), webhook_secret_ciphertext: secrets.seal(secret, hookSecretAad(app.id)) })
    .returning<Array<{ webhook_id: string }>>('webhook_id');
  if (row) return { hook: { webhookId: row.webhook_id, secret }, created: true };
  const now = await db('apps').where({ id: app.id }).first<HookColumns | undefined>('webhook_id', 'webhook_secret_ciphertext');
  if (!now?.webhook_id || !now.webhook_secret_ciphertext) throw new DomainError('NOT_FOUND', 'app not found');
  return ensureHook(db, secrets, { id: app.id, ...now });
}

/** A new secret; the old one stops verifying at once. The id (and so the URL) stays. */
export async function rotateHook(db: Db, secrets: SecretBox, appId: string): Promise<Hook> {
  const secret = newHookSecret();
  const [row] = await db('apps')
    .where({ id: appId })
    .whereNull('deleted_at')
    .update({ webhook_id: db.raw('coalesce(webhook_id, ?)', [newHookId()]), webhook_secret_ciphertext: secrets.seal(secret, hookSecretAad(appId)) })
    .returning<Array<{ webhook_id: string }>>('webhook_id');
  if (!row) throw new DomainError('NOT_FOUND', 'app not found');
  return { webhookId: row.webhook_id, secret };
}

export interface HookedApp {
  id: string;
  owner_id: string;
  source: AppSource;
  webhook_secret_ciphertext: string | null;
}

/** The live app behind a hook id, or undefined; a malformed id is unknown without a query. */
export async function findHookedApp(db: Db, hookId: string): Promise<HookedApp | undefined> {
  if (!HOOK_ID.test(hookId)) return undefined;
  return db('apps')
    .where({ webhook_id: hookId })
    .whereNull('deleted_at')
    .whereNot({ status: 'deleting' })
    .first<HookedApp | undefined>('id', 'owner_id', 'source', 'webhook_secret_ciphertext');
}
