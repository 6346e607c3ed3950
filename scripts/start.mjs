// `npm start`: build (esbuild, well under a second) and run the control plane in the foreground
// with the embedded PostgreSQL in the data dir. Ctrl-C stops it cleanly; running it again reuses
// the data. Settings come from the environment (see README).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

await import('./build.mjs');

const child = spawn(process.execPath, [path.join(root, 'apps/control-plane/bin/karvon-control-plane.js')], {
  stdio: 'inherit',
  env: process.env,
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
