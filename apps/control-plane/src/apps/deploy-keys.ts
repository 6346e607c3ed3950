// The app's ssh deploy key: made by Karvon (Ed25519, ssh-key.ts), the public half shown to the
// user to add to the git host as a read-only deploy key, the private half sealed (AAD bound to
// the app) and opened only into a build task frame. The host keys the app's builds met are kept
// beside it (trust on first use) and shown, so the user can compare them with the git host's.
// Callers have checked ownership (loadOwned).
import type { Db } from '../db/connect';
import { DomainError } from '../domain/errors';
import type { SecretBox } from '../secrets/secret-box';
import type { AppSource } from './app-schemas';
import { deployKeyAad, publicKeyFingerprint, type GitCredentialColumns } from './git-credentials';
import { generateSshKeyPair } from './ssh-key';

export interface DeployKeyView {
  publicKey: string;
  fingerprint: string;
  createdAt: string;
  /** host keys accepted on first use, as known_hosts lines */
  knownHosts: string[];
}

/** Deploy keys are for apps that build from git. */
export function requireGitApp(source: AppSource): void {
  if (source.type !== 'git') throw new DomainError('CONFLICT', 'deploy keys are for apps with a git source; this app deploys an image');
}

export function deployKeyView(cols: GitCredentialColumns): DeployKeyView {
  if (!cols.deploy_key_public || !cols.deploy_key_created_at) throw new DomainError('NOT_FOUND', 'the app has no deploy key');
  return {
    publicKey: cols.deploy_key_public,
    fingerprint: publicKeyFingerprint(cols.deploy_key_public),
    createdAt: new Date(cols.deploy_key_created_at).toISOString(),
    knownHosts: (cols.git_known_hosts ?? '').split('\n').filter(Boolean),
  };
}

const COLUMNS = ['deploy_key_public', 'deploy_key_created_at', 'git_known_hosts'] as const;

async function writeNewKey(db: Db, secrets: SecretBox, appId: string, onlyIfMissing: boolean): Promise<GitCredentialColumns | undefined> {
  const pair = generateSshKeyPair(`karvon-app-${appId}`);
  const q = db('apps').where({ id: appId }).whereNull('deleted_at');
  if (onlyIfMissing) q.whereNull('deploy_key_private_ciphertext');
  const [row] = await q
    .update({ deploy_key_public: pair.publicKey, deploy_key_private_ciphertext: secrets.seal(pair.privateKey, deployKeyAad(appId)), deploy_key_created_at: db.fn.now() })
    .returning<GitCredentialColumns[]>([...COLUMNS]);
  return row;
}

/**
 * The app's deploy key, made on first read. Concurrent first reads race on the key being null:
 * one update wins, the other reads what it wrote, so both answer the same key.
 */
export async function ensureDeployKey(db: Db, secrets: SecretBox, app: { id: string } & GitCredentialColumns): Promise<{ key: DeployKeyView; created: boolean }> {
  if (app.deploy_key_public && app.deploy_key_private_ciphertext) return { key: deployKeyView(app), created: false };
  const made = await writeNewKey(db, secrets, app.id, true);
  if (made) return { key: deployKeyView(made), created: true };
  const now = await db('apps').where({ id: app.id }).first<GitCredentialColumns | undefined>(...COLUMNS);
  if (!now?.deploy_key_public) throw new DomainError('NOT_FOUND', 'app not found');
  return { key: deployKeyView(now), created: false };
}

/** A new key pair; the old private key is gone at once (builds use only the new one). */
export async function rotateDeployKey(db: Db, secrets: SecretBox, appId: string): Promise<DeployKeyView> {
  const row = await writeNewKey(db, secrets, appId, false);
  if (!row) throw new DomainError('NOT_FOUND', 'app not found');
  return deployKeyView(row);
}

/** Forgets the host keys met so far: the next build trusts what the git host presents (after a host key change). */
export async function forgetKnownHosts(db: Db, appId: string): Promise<void> {
  await db('apps').where({ id: appId }).whereNull('deleted_at').update({ git_known_hosts: null });
}
