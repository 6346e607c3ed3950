// Fetches exactly one commit into an empty directory, with the hardened git of git-hardening.ts:
// `git init`, `git fetch --depth 1 origin <sha | refs/heads/branch>`, `git checkout --detach`.
// Cloning the whole repository would fetch history and run the server's idea of HEAD; this asks
// for one object and checks that git fetched what was asked for.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { BuildFailure } from '../build-failure';
import type { CheckedGitSource } from './check-source';
import { redactGitUrl } from './git-url';
import { gitConfig, gitEnv } from './git-hardening';

export interface CloneOptions {
  /** empty directory to check the commit out into */
  dir: string;
  /** a private HOME for git (no user config is read) */
  home: string;
  source: CheckedGitSource;
  caFile?: string | undefined;
  timeoutMs: number;
  signal: AbortSignal;
  log(line: string): void;
}

export async function cloneCommit(opts: CloneOptions): Promise<{ commitSha: string }> {
  await mkdir(opts.dir, { recursive: true });
  await mkdir(opts.home, { recursive: true });
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([opts.signal, timeout]);
  const { source } = opts;
  const env = gitEnv(path.resolve(opts.home));
  const git: SimpleGit = simpleGit({
    baseDir: opts.dir,
    maxConcurrentProcesses: 1,
    abort: signal,
    config: gitConfig({ caFile: opts.caFile, pin: source.pinnedAddress ? { host: source.remote.host, port: source.remote.port, address: source.pinnedAddress } : undefined }),
    // simple-git refuses these settings by default because they can run programs; here they are
    // our own constants that restrict git (see git-hardening.ts), never customer input.
    allowEnvironment: Object.keys(env),
    unsafe: {
      allowUnsafeProtocolOverride: true,
      allowUnsafeHooksPath: true,
      allowUnsafeSshCommand: true,
      allowUnsafeTemplateDir: true,
      allowUnsafeCredentialHelper: true,
      allowUnsafeFsMonitor: true,
    },
  }).env(env);
  const safeUrl = redactGitUrl(source.remote.url);
  const ref = source.commitSha ?? `refs/heads/${source.branch ?? ''}`;
  const step = async (what: string, args: string[]): Promise<string> => {
    try {
      return await git.raw(args);
    } catch (e) {
      if (opts.signal.aborted) throw new BuildFailure('BUILD_CANCELLED', `the build was cancelled during ${what}`);
      if (timeout.aborted) throw new BuildFailure('CLONE_FAILED', `${what} did not finish within ${Math.round(opts.timeoutMs / 1000)} s: check that ${source.remote.host}:${source.remote.port} answers`);
      throw new BuildFailure('CLONE_FAILED', `${what} failed: ${lastLines(redact((e as Error).message, source.remote.url, safeUrl))}`);
    }
  };
  opts.log(`clone: fetching ${source.commitSha ?? `branch ${source.branch ?? ''}`} from ${safeUrl}`);
  await step('git init', ['init', '--quiet']);
  await step('git remote add', ['remote', 'add', '--', 'origin', source.remote.url]);
  await step(`fetching ${source.commitSha ? 'the commit' : 'the branch'} from ${safeUrl}`, ['fetch', '--quiet', '--depth', '1', '--no-tags', '--no-recurse-submodules', 'origin', '--', ref]);
  const fetched = (await step('git rev-parse', ['rev-parse', '--verify', '--end-of-options', 'FETCH_HEAD^{commit}'])).trim();
  if (source.commitSha && fetched !== source.commitSha) {
    throw new BuildFailure('CLONE_FAILED', `the server answered with commit ${fetched} instead of ${source.commitSha}`);
  }
  await step('git checkout', ['checkout', '--quiet', '--detach', fetched]);
  opts.log(`clone: checked out ${fetched}`);
  return { commitSha: fetched };
}

function redact(text: string, url: string, safe: string): string {
  return text.split(url).join(safe);
}

function lastLines(text: string, n = 8): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.slice(-n).join('\n').slice(0, 1500);
}
