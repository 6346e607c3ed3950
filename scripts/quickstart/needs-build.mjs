// "Build if needed": the bundles are rebuilt when any source they are made from is newer than
// them. Skipping a needless build also keeps a running test suite's bins from being rewritten
// under it (esbuild replaces apps/*/dist while other processes may be loading them).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const SOURCES = ['apps/control-plane/src', 'apps/agent/src', 'packages/protocol/src', 'migrations', 'scripts/build.mjs', 'package-lock.json'];
const BUNDLES = ['apps/control-plane/dist/main.js', 'apps/agent/dist/main.js'];

/** Newest mtime under `p` (a file or a directory, recursively); 0 when absent. @param {string} p @returns {Promise<number>} */
async function newest(p) {
  const s = await stat(p).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let max = s.mtimeMs;
  for (const entry of await readdir(p)) max = Math.max(max, await newest(path.join(p, entry)));
  return max;
}

/** @param {string} root the repository */
export async function needsBuild(root) {
  const bundles = await Promise.all(BUNDLES.map((b) => stat(path.join(root, b)).then((s) => s.mtimeMs, () => 0)));
  const oldestBundle = Math.min(...bundles);
  if (oldestBundle === 0) return true;
  for (const source of SOURCES) if ((await newest(path.join(root, source))) > oldestBundle) return true;
  return false;
}
