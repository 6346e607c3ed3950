// A private repository's credentials, kept beside the app row and never in `apps.source` (which
// the API returns): an https token sealed with the secret box (AAD bound to the app), and the
// app's ssh deploy key (deploy-keys.ts). What a create or a patch does to the stored token is
// decided here in pure code; the build task carries the sealed values (builds/build-task-secrets.ts).
import type { AppSource, AppSourceView } from './app-schemas';
import { sshFingerprint } from './ssh-key';

export interface GitCredentialColumns {
  git_token_ciphertext?: string | null;
  git_token_username?: string | null;
  deploy_key_public?: string | null;
  deploy_key_private_ciphertext?: string | null;
  deploy_key_created_at?: Date | string | null;
  git_known_hosts?: string | null;
}

/** The username sent with a token when the user names none (GitHub, Gitea and GitLab accept it). */
export const DEFAULT_GIT_USERNAME = 'x-access-token';

export const gitTokenAad = (appId: string) => `app-git-token:${appId}`;
export const deployKeyAad = (appId: string) => `app-deploy-key:${appId}`;

export type TokenChange = { kind: 'keep' } | { kind: 'clear' } | { kind: 'set'; username: string; token: string };

export const isHttpsUrl = (url: string) => url.toLowerCase().startsWith('https://');
export const isSshUrl = (url: string) => !isHttpsUrl(url);

/**
 * The source as stored (without `auth`) and what happens to the stored token. A token is kept
 * only while the URL stays exactly the same: moving the app to another repository or host
 * without giving `auth` again drops it, so a token never travels to a server it was not given for.
 */
export function planSourceChange(current: AppSource | undefined, next: AppSource): { stored: AppSource; token: TokenChange } {
  if (next.type !== 'git') return { stored: next, token: { kind: 'clear' } };
  const { auth, ...stored } = next;
  if (!isHttpsUrl(next.url) || auth === null) return { stored, token: { kind: 'clear' } };
  if (auth) return { stored, token: { kind: 'set', username: auth.username ?? DEFAULT_GIT_USERNAME, token: auth.token } };
  const sameUrl = current?.type === 'git' && current.url === next.url;
  return { stored, token: sameUrl ? { kind: 'keep' } : { kind: 'clear' } };
}

/** The columns to write for a token change (sealing a new token with `seal`). */
export function tokenColumns(change: TokenChange, seal: (token: string) => string): Record<string, string | null> {
  if (change.kind === 'keep') return {};
  if (change.kind === 'clear') return { git_token_ciphertext: null, git_token_username: null };
  return { git_token_ciphertext: seal(change.token), git_token_username: change.username };
}

/** The fingerprint of an authorized_keys line (`ssh-ed25519 AAAA… comment`). */
export function publicKeyFingerprint(line: string): string {
  return sshFingerprint(Buffer.from(line.split(' ')[1] ?? '', 'base64'));
}

/** The API's view of the source: a stored credential is named, never shown. */
export function sourceView(source: AppSource, cols: GitCredentialColumns): AppSourceView {
  if (source.type !== 'git') return source;
  const base = { type: 'git' as const, url: source.url, branch: source.branch };
  if (isHttpsUrl(source.url) && cols.git_token_ciphertext) return { ...base, auth: { type: 'token', username: cols.git_token_username ?? DEFAULT_GIT_USERNAME } };
  if (isSshUrl(source.url) && cols.deploy_key_public) return { ...base, auth: { type: 'deploy-key', fingerprint: publicKeyFingerprint(cols.deploy_key_public) } };
  return base;
}
