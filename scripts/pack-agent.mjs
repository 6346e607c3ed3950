// `node scripts/pack-agent.mjs [--out DIR] [--arch amd64|arm64 --node FILE]`: the agent release
// tarball install-agent.sh installs, which the control plane serves (GET /agent/download) from its
// KARVON_AGENT_RELEASE_DIR (default: this checkout's dist/agent-release, pack-agent's default --out).
// Self-contained: one esbuild bundle with every npm dependency in it, the Node.js binary that runs
// this script (so the server's own Node version never matters; --node FILE for another
// architecture's binary), the Traefik static-config generator and the systemd units. Next to it a
// `.sha256` file. Both are written under a temporary name and renamed into place, so a control
// plane serving the directory never sends a half-written tarball.
//
//   karvon-agent/bin/karvon-agent   (sh: exec ../node lib/karvon-agent.mjs "$@")
//   karvon-agent/bin/node
//   karvon-agent/lib/karvon-agent.mjs, lib/traefik-static-config.mjs
//   karvon-agent/share/systemd/*.service, VERSION
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string' }, arch: { type: 'string' }, node: { type: 'string' } }, strict: true });
const outDir = path.resolve(values.out ?? path.join(root, 'dist', 'agent-release'));
const version = JSON.parse(await readFile(path.join(root, 'apps/agent/package.json'), 'utf8')).version;
// Debian's names (dpkg --print-architecture), which install-agent.sh asks the control plane for.
const hostArch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
const arch = values.arch ?? hostArch;
if (arch !== 'amd64' && arch !== 'arm64') throw new Error(`no agent release for ${values.arch ?? process.arch}: amd64 or arm64`);
if (arch !== hostArch && !values.node) throw new Error(`--arch ${arch} on a ${process.arch} machine needs --node FILE, a Node.js 20+ binary for linux-${arch}`);
const nodeBinary = path.resolve(values.node ?? process.execPath);
export const tarballName = `karvon-agent-${version}-linux-${arch}.tar.gz`;

// ssh2 (under dockerode) and cpu-features load optional native addons inside try/catch; left out
// of the bundle they fail to load and the pure-JS paths are used.
const optionalNative = {
  name: 'optional-native',
  setup(b) {
    b.onResolve({ filter: /\.node$|^cpu-features$/ }, (a) => ({ path: a.path, external: true }));
  },
};
// CommonJS dependencies inside an ESM bundle still ask for require/__dirname.
const cjsShim = [
  "import { createRequire as __kvRequire } from 'node:module';",
  "import { fileURLToPath as __kvPath } from 'node:url';",
  'const require = __kvRequire(import.meta.url);',
  'const __filename = __kvPath(import.meta.url);',
  "const __dirname = __kvPath(new URL('.', import.meta.url));",
].join(' ');

const stage = await mkdtemp(path.join(tmpdir(), 'karvon-agent-pack-'));
try {
  const top = path.join(stage, 'karvon-agent');
  await mkdir(path.join(top, 'bin'), { recursive: true });
  await mkdir(path.join(top, 'share', 'systemd'), { recursive: true });
  const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', plugins: [optionalNative], banner: { js: cjsShim } };
  await build({ ...common, entryPoints: [path.join(root, 'apps/agent/src/main.ts')], outfile: path.join(top, 'lib', 'karvon-agent.mjs') });
  await build({ ...common, entryPoints: [path.join(root, 'scripts/agent-release/traefik-static-config.mjs')], outfile: path.join(top, 'lib', 'traefik-static-config.mjs') });
  await copyFile(nodeBinary, path.join(top, 'bin', 'node'));
  await writeFile(
    path.join(top, 'bin', 'karvon-agent'),
    '#!/bin/sh\nhere="$(dirname "$(readlink -f "$0")")"\nexec "$here/node" "$here/../lib/karvon-agent.mjs" "$@"\n',
    { mode: 0o755 },
  );
  await chmod(path.join(top, 'bin', 'node'), 0o755);
  for (const unit of await readdir(path.join(root, 'systemd'))) {
    if (unit.endsWith('.service')) await copyFile(path.join(root, 'systemd', unit), path.join(top, 'share', 'systemd', unit));
  }
  await writeFile(path.join(top, 'VERSION'), `${version}\n`);
  await mkdir(outDir, { recursive: true });
  const tarball = path.join(outDir, tarballName);
  // Fixed owner and order: the same inputs give the same listing on every machine.
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', `${tarball}.tmp`, '-C', stage, 'karvon-agent']);
  const sum = createHash('sha256').update(await readFile(`${tarball}.tmp`)).digest('hex');
  await writeFile(`${tarball}.sha256.tmp`, `${sum}  ${tarballName}\n`);
  await rename(`${tarball}.tmp`, tarball);
  await rename(`${tarball}.sha256.tmp`, `${tarball}.sha256`);
  console.log(`${tarball}\n${tarball}.sha256`);
} finally {
  await rm(stage, { recursive: true, force: true });
}
