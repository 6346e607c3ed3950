// Fetches exactly one commit into an empty directory, with the hardened git of git-hardening.ts:
// `git init`, `git fetch --depth 1 -- <url> <sha | refs/heads/branch>`, `git checkout --detach`
// (three git processes run by run-git.ts: the URL is fetched directly rather than through a configured remote, and
// what was fetched and checked out is read from FETCH_HEAD and HEAD rather than by `rev-parse`).
// Cloning the whole repository would fetch history and run the server's idea of HEAD; this asks
// for one object and checks that git fetched what was asked for, and checked out that commit.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BuildFailure } from '../build-failure';
import type { CheckedGitSource } from './check-source';
import { knownHostsLines, scrubSecrets, secretForms, tokenEnv, type GitAuth } from './git-credentials';
import { detachedHeadCommit, fetchHeadObject } from './fetched-commit';
import { redactGitUrl } from './git-url';
import { gitConfig, gitEnv } from './git-hardening';
import { runGit } from './run-git';

export interface CloneOptions {
  /** empty directory to check the commit out into */
  dir: string;
  /** a private HOME for git (no user config is read) */
  home: string;
  source: CheckedGitSource;
  /** the private repository's credential, if any */
  auth?: GitAuth | undefined;
  /** an empty private directory for the deploy key and known_hosts files (ssh) */
  sshDir?: string | undefined;
  caFile?: string | undefined;
  timeoutMs: number;
  signal: AbortSignal;
  log(line: string): void;
}

export interface CloneResult {
  commitSha: string;
  /** with the deploy key: the host keys ssh knows after the fetch (the given ones plus any it learned) */
  knownHosts?: string;
}

export async function cloneCommit(opts: CloneOptions): Promise<CloneResult> {
  await mkdir(opts.dir, { recursive: true });
  await mkdir(opts.home, { recursive: true });
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([opts.signal, timeout]);
  const { source, auth } = opts;
  const secrets = secretForms(auth);
  const ssh = auth?.type === 'ssh-key' && source.remote.transport === 'ssh' ? await writeSshFiles(opts.sshDir ?? path.join(path.dirname(path.resolve(opts.dir)), 'ssh'), auth) : undefined;
  // The token travels in the git child's environment only (GIT_CONFIG_*), and only to https remotes.
  const env = { ...gitEnv(path.resolve(opts.home)), ...(auth?.type === 'token' && source.remote.transport === 'https' ? tokenEnv(auth.username, auth.token) : {}) };
  // Each setting is our own constant that restricts git (git-hardening.ts), never customer input.
  const config = gitConfig({ caFile: opts.caFile, ssh, pin: source.pinnedAddress ? { host: source.remote.host, port: source.remote.port, address: source.pinnedAddress } : undefined });
  const safeUrl = redactGitUrl(source.remote.url);
  const ref = source.commitSha ?? `refs/heads/${source.branch ?? ''}`;
  const step = async (what: string, args: string[]): Promise<string> => {
    try {
      const out = await runGit(args, { cwd: opts.dir, config, env, signal });
      return out;
    } catch (e) {
      if (opts.signal.aborted) throw new BuildFailure('BUILD_CANCELLED', `the build was cancelled during ${what}`);
      if (timeout.aborted) throw new BuildFailure('CLONE_FAILED', `${what} did not finish within ${Math.round(opts.timeoutMs / 1000)} s: check that ${source.remote.host}:${source.remote.port} answers`);
      throw new BuildFailure('CLONE_FAILED', `${what} failed: ${lastLines(scrubSecrets(redact((e as Error).message, source.remote.url, safeUrl), secrets))}${authHint(auth, source.remote.transport)}`);
    }
  };
  opts.log(`clone: fetching ${source.commitSha ?? `branch ${source.branch ?? ''}`} from ${safeUrl}`);
  await step('git init', ['init', '--quiet']);
  // The URL (checked, never an option: it follows `--`) is fetched directly: no remote is configured.
  await step(`fetching ${source.commitSha ? 'the commit' : 'the branch'} from ${safeUrl}`, ['fetch', '--quiet', '--depth', '1', '--no-tags', '--no-recurse-submodules', '--', source.remote.url, ref]);
  const gitDir = path.join(opts.dir, '.git');
  const fetchedObject = fetchHeadObject(await readFile(path.join(gitDir, 'FETCH_HEAD'), 'utf8').catch(() => ''));
  if (!fetchedObject) throw new BuildFailure('CLONE_FAILED', 'the fetch left no object to check out');
  if (source.commitSha && fetchedObject !== source.commitSha) {
    throw new BuildFailure('CLONE_FAILED', `the server answered with commit ${fetchedObject} instead of ${source.commitSha}`);
  }
  await step('git checkout', ['checkout', '--quiet', '--detach', `${fetchedObject}^{commit}`]);
  // The commit checked out (an annotated tag's object peels to its commit, which then differs).
  const fetched = detachedHeadCommit(await readFile(path.join(gitDir, 'HEAD'), 'utf8').catch(() => ''));
  if (!fetched) throw new BuildFailure('CLONE_FAILED', 'the checkout left no detached commit');
  if (source.commitSha && fetched !== source.commitSha) {
    throw new BuildFailure('CLONE_FAILED', `the server answered with commit ${fetched} instead of ${source.commitSha}`);
  }
  opts.log(`clone: checked out ${fetched}`);
  if (!ssh) return { commitSha: fetched };
  return { commitSha: fetched, knownHosts: knownHostsLines(await readFile(ssh.knownHostsFile, 'utf8').catch(() => '')) };
}

/** The deploy key (0600) and the known host keys, in a private folder the build's workdir removal deletes. */
async function writeSshFiles(dir: string, auth: Extract<GitAuth, { type: 'ssh-key' }>): Promise<{ identityFile: string; knownHostsFile: string }> {
  const abs = path.resolve(dir);
  await mkdir(abs, { recursive: true, mode: 0o700 });
  const identityFile = path.join(abs, 'deploy_key');
  const knownHostsFile = path.join(abs, 'known_hosts');
  await writeFile(identityFile, auth.privateKey.endsWith('\n') ? auth.privateKey : `${auth.privateKey}\n`, { mode: 0o600, flag: 'wx' });
  await writeFile(knownHostsFile, knownHostsLines(auth.knownHosts), { mode: 0o600, flag: 'wx' });
  return { identityFile, knownHostsFile };
}

function authHint(auth: GitAuth | undefined, transport: 'https' | 'ssh'): string {
  if (transport === 'ssh') {
    return auth?.type === 'ssh-key'
      ? '; check that the app\'s deploy key (GET /api/v1/apps/:id/deploy-key) is added to the repository with read access, and that the host key has not changed'
      : '; the app has no deploy key yet: read it with GET /api/v1/apps/:id/deploy-key and add it to the repository';
  }
  return auth?.type === 'token' ? '; check that the app\'s git token is valid and can read the repository' : '';
}

function redact(text: string, url: string, safe: string): string {
  return text.split(url).join(safe);
}

function lastLines(text: string, n = 8): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.slice(-n).join('\n').slice(0, 1500);
}
