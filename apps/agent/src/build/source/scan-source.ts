// Walks a checkout once: every entry of the future build context (`.git` left out), the listing
// detection reads, and the safety check. A symbolic link whose target leaves the repository (an
// absolute target, `..` past the root, or a real path outside it) makes the whole source unsafe:
// Docker would otherwise read the node's own files into a customer's image (a Dockerfile or
// Procfile linked to /etc/…, a COPY of a link to the agent's state).
import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { BuildFailure } from '../build-failure';
import { DETECTION_FILES, type SourceListing } from '../buildpacks/types';

export type ContextEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; size: number; source: string }
  | { type: 'symlink'; path: string; target: string };

export interface ScannedSource {
  entries: ContextEntry[];
  listing: SourceListing;
  totalBytes: number;
}

const MAX_ENTRIES = 200_000;
const MAX_DETECTION_FILE = 1 << 20;

/** Pure: where a link at `linkPath` (relative to the root) with `target` points, or undefined if outside. */
export function symlinkTargetInside(linkPath: string, target: string): string | undefined {
  if (target.startsWith('/') || target.includes('\0')) return undefined;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(linkPath), target));
  if (resolved === '..' || resolved.startsWith('../') || path.posix.isAbsolute(resolved)) return undefined;
  return resolved;
}

export async function scanSource(root: string, opts: { maxBytes: number }): Promise<ScannedSource> {
  const realRoot = await realpath(root);
  const entries: ContextEntry[] = [];
  let totalBytes = 0;
  const unsafe = (rel: string, why: string) => new BuildFailure('UNSAFE_SOURCE', `${rel} ${why}: the build context must stay inside the repository (replace the link with the file itself)`);
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(path.join(root, rel))).sort();
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (!rel && name === '.git') continue;
      if (entries.length >= MAX_ENTRIES) throw new BuildFailure('BUILD_FAILED', `the repository has more than ${MAX_ENTRIES} files; remove generated or vendored files from it`);
      const abs = path.join(root, childRel);
      const st = await lstat(abs);
      if (st.isSymbolicLink()) {
        const target = await readlink(abs);
        if (symlinkTargetInside(childRel, target) === undefined) throw unsafe(childRel, `is a symbolic link to ${JSON.stringify(target.slice(0, 200))}, outside the repository`);
        // The lexical check can be fooled by links through other links; the real path cannot.
        const real = await realpath(abs).catch(() => undefined);
        if (real !== undefined && real !== realRoot && !real.startsWith(realRoot + path.sep)) throw unsafe(childRel, 'resolves outside the repository');
        entries.push({ type: 'symlink', path: childRel, target });
      } else if (st.isDirectory()) {
        entries.push({ type: 'dir', path: childRel, mode: st.mode & 0o7777 });
        await walk(childRel);
      } else if (st.isFile()) {
        totalBytes += st.size;
        if (totalBytes > opts.maxBytes) throw new BuildFailure('BUILD_FAILED', `the repository is larger than ${Math.round(opts.maxBytes / 2 ** 20)} MiB; remove large files from it`);
        entries.push({ type: 'file', path: childRel, mode: st.mode & 0o7777, size: st.size, source: abs });
      } else {
        throw unsafe(childRel, 'is not a regular file, directory or symbolic link');
      }
    }
  };
  await walk('');
  const paths = new Set(entries.map((e) => e.path));
  const contents: Record<string, string> = {};
  for (const name of DETECTION_FILES) {
    const entry = entries.find((e) => e.path === name);
    if (!entry || entry.type === 'dir') continue;
    // A link inside the repository is read through; its target was checked above.
    const st = await lstat(path.join(root, name)).catch(() => undefined);
    if (!st) continue;
    const text = await readFile(path.join(root, name), 'utf8').catch(() => undefined);
    if (text !== undefined) contents[name] = text.slice(0, MAX_DETECTION_FILE);
  }
  return { entries, listing: { paths, contents }, totalBytes };
}
