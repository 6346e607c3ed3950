// Bundles each app's entry point with esbuild. Workspace packages (@karvon/*) and the migrations
// are bundled in; npm dependencies stay external and load from node_modules at run time.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const externalDependencies = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@karvon/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

const entries = [
  { app: 'control-plane', entry: 'src/main.ts' },
  { app: 'agent', entry: 'src/main.ts' },
];

const started = Date.now();
for (const { app, entry } of entries) {
  const dir = path.join(root, 'apps', app);
  await build({
    entryPoints: [path.join(dir, entry)],
    outfile: path.join(dir, 'dist', 'main.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [externalDependencies],
  });
}
console.log(`built ${entries.map((e) => e.app).join(', ')} in ${Date.now() - started} ms`);

// The web panel: Vite builds apps/panel into apps/panel/dist, served by the control plane at /
// (skipped when dist is newer than its sources).
const { buildPanel } = await import('./build-panel.mjs');
const panelStarted = Date.now();
if (await buildPanel(root)) console.log(`built panel in ${Date.now() - panelStarted} ms`);
