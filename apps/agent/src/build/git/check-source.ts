// A build's git source, checked before anything runs: URL grammar, branch name, commit SHA, and
// the host's addresses (resolved here; the address that passed is pinned for https fetches).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { BuildFailure } from '../build-failure';
import { parseGitUrl, type GitRemote } from './git-url';
import { decideGitHost } from './host-policy';
import { branchNameProblem } from './ref-format';

export interface GitSourceInput {
  url: string;
  commitSha?: string | undefined;
  branch?: string | undefined;
}

export interface CheckedGitSource {
  remote: GitRemote;
  commitSha: string | undefined;
  branch: string | undefined;
  /** the address git must connect to for https (undefined for listed hosts and literals) */
  pinnedAddress: string | undefined;
}

export type ResolveHost = (host: string) => Promise<string[]>;

export const resolveWithDns: ResolveHost = async (host) => {
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return [];
  }
};

const SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Throws UNSAFE_SOURCE with the reason when the source may not be fetched. */
export async function checkGitSource(input: GitSourceInput, allowedHosts: readonly string[], resolve: ResolveHost = resolveWithDns): Promise<CheckedGitSource> {
  const parsed = parseGitUrl(input.url);
  if (!parsed.ok) throw new BuildFailure('UNSAFE_SOURCE', `git URL refused: ${parsed.reason}`);
  if (input.commitSha !== undefined && !SHA_RE.test(input.commitSha)) throw new BuildFailure('UNSAFE_SOURCE', 'commit refused: not a full lower-case commit SHA');
  if (input.branch !== undefined) {
    const problem = branchNameProblem(input.branch);
    if (problem) throw new BuildFailure('UNSAFE_SOURCE', `branch refused: ${problem}`);
  }
  if (input.commitSha === undefined && input.branch === undefined) throw new BuildFailure('UNSAFE_SOURCE', 'the source names neither a commit nor a branch');
  const { remote } = parsed;
  const addresses = isIP(remote.host) ? [remote.host] : await resolve(remote.host);
  const decision = decideGitHost(remote.host, remote.port, addresses, allowedHosts);
  if (!decision.ok) throw new BuildFailure('UNSAFE_SOURCE', `git host refused: ${decision.reason}`);
  const pinnedAddress = !decision.listed && remote.transport === 'https' && isIP(remote.host) === 0 ? addresses[0] : undefined;
  return { remote, commitSha: input.commitSha, branch: input.branch, pinnedAddress };
}
