// Builds the web panel (apps/panel) with Vite into apps/panel/dist, which the control plane serves
// at /. Skipped when dist is newer than every source file (the test setup runs the build each time),
// unless forced. Built into a temporary directory first, so a concurrent reader never sees a half
// written dist.
import { chmod, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

async function newestMtime(p) {
  const s = await stat(p).catch(() => null);
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const entry of await readdir(p)) newest = Math.max(newest, await newestMtime(path.join(p, entry)));
  return newest;
}

export async function buildPanel(root, { force = false } = {}) {
  const dir = path.join(root, 'apps', 'panel');
  const out = path.join(dir, 'dist');
  if (!force) {
    const built = await stat(path.join(out, 'index.html')).then((s) => s.mtimeMs, () => 0);
    const sources = await Promise.all(
      ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((f) => newestMtime(path.join(dir, f))),
    );
    if (built > Math.max(...sources)) return false;
  }
  const { build } = await import('vite');
  const tmp = await mkdtemp(path.join(dir, '.dist-'));
  try {
    await build({
      root: dir,
      configFile: path.join(dir, 'vite.config.ts'),
      logLevel: 'warn',
      mode: 'production',
      // The test setup runs this with NODE_ENV=test: React's production build regardless.
      define: { 'process.env.NODE_ENV': JSON.stringify('production') },
      build: { outDir: tmp, emptyOutDir: true, minify: true },
    });
    await chmod(tmp, 0o755);
    await rm(out, { recursive: true, force: true });
    await rename(tmp, out);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const started = Date.now();
  await buildPanel(root, { force: process.argv.includes('--force') });
  console.log(`built panel in ${Date.now() - started} ms`);
}
