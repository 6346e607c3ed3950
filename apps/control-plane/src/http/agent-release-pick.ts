// Which file in the agent release directory answers GET /agent/download?arch=…: a pure decision
// over the directory's file names, as `node scripts/pack-agent.mjs` names its tarballs.

/** Debian's (and Docker's) names for the architectures agent releases exist for. */
export const AGENT_ARCHES = ['amd64', 'arm64'] as const;
export type AgentArch = (typeof AGENT_ARCHES)[number];

export interface AgentRelease {
  fileName: string;
  version: string;
  arch: AgentArch;
}

// karvon-agent-<major>.<minor>.<patch>[-<prerelease>]-linux-<arch>.tar.gz
const TARBALL = /^karvon-agent-((\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:-([0-9A-Za-z.]+))?)-linux-(amd64|arm64)\.tar\.gz$/;

/** The release a tarball name describes; undefined for any other file. */
export function parseReleaseName(fileName: string): (AgentRelease & { parts: [number, number, number]; prerelease: string | undefined }) | undefined {
  const m = TARBALL.exec(fileName);
  if (!m) return undefined;
  return {
    fileName,
    version: m[1]!,
    arch: m[6] as AgentArch,
    parts: [Number(m[2]), Number(m[3]), Number(m[4])],
    prerelease: m[5],
  };
}

type Parsed = NonNullable<ReturnType<typeof parseReleaseName>>;

/** semver order: numbers first, a prerelease before its release, prereleases by name */
function compare(a: Parsed, b: Parsed): number {
  for (let i = 0; i < 3; i++) {
    const d = a.parts[i]! - b.parts[i]!;
    if (d !== 0) return d;
  }
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === undefined) return 1;
  if (b.prerelease === undefined) return -1;
  return a.prerelease < b.prerelease ? -1 : 1;
}

/**
 * The newest release for `arch` among `fileNames` (a directory listing), or undefined when there
 * is none. Older releases may stay beside it; other files are ignored.
 */
export function pickRelease(fileNames: readonly string[], arch: AgentArch): AgentRelease | undefined {
  let best: Parsed | undefined;
  for (const name of fileNames) {
    const parsed = parseReleaseName(name);
    if (parsed?.arch === arch && (!best || compare(parsed, best) > 0)) best = parsed;
  }
  return best && { fileName: best.fileName, version: best.version, arch: best.arch };
}
