// How a private repository's credentials reach git, pure: an https token as an `http.extraHeader`
// carried in GIT_CONFIG_* variables of the git child only (never argv, never the URL, never the
// build's environment), and every form of a secret that must be scrubbed from git's messages.
import type { BuildTaskSpec } from '@karvon/protocol';

export type GitAuth = NonNullable<BuildTaskSpec['source']['auth']>;

/** The username git sends with a token when the app names none (GitHub, Gitea and GitLab accept it). */
export const DEFAULT_TOKEN_USERNAME = 'x-access-token';

const basicValue = (username: string, token: string) => Buffer.from(`${username}:${token}`, 'utf8').toString('base64');

/** Environment entries that make git send `Authorization: Basic …` with every https request. */
export function tokenEnv(username: string, token: string): Record<string, string> {
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basicValue(username, token)}`,
  };
}

/** Every text form in which the credential could show up in git's or ssh's output. */
export function secretForms(auth: GitAuth | undefined): string[] {
  if (!auth) return [];
  if (auth.type === 'token') {
    return [...new Set([basicValue(auth.username, auth.token), auth.token, encodeURIComponent(auth.token)])].filter((s) => s.length > 0);
  }
  // A private key is never printed by ssh; its base64 lines are scrubbed anyway.
  return auth.privateKey
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 16 && !l.startsWith('-----'));
}

/** `text` with every secret form replaced by `***` (longest first, so no part of a longer one survives). */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

/** The known_hosts text a build returns: well-formed `host keytype base64` lines only, capped. */
export function knownHostsLines(text: string, maxBytes = 16 * 1024): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[^\s#]+ (?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]+$/.test(l));
  const kept: string[] = [];
  let size = 0;
  for (const l of [...new Set(lines)]) {
    if (size + l.length + 1 > maxBytes) break;
    kept.push(l);
    size += l.length + 1;
  }
  return kept.length > 0 ? `${kept.join('\n')}\n` : '';
}
