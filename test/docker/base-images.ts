// Base images for tests on a machine with no registry: built from host files and imported through
// the Engine API (`docker import` of a tar we write in Node), tagged with the public names the
// runtime catalog uses, so the production code path runs unchanged.
//
// Idempotence: each image carries a label `karvon.test-image=<fingerprint>`, a hash of this recipe's
// source and of the host inputs (paths, sizes, mtimes, versions). A matching label is the fast
// path (one inspect per image). Otherwise the images are rebuilt under a lock file, `open(…, 'wx')`
// with retry, one per engine address, so two vitest workers never import the same image twice;
// the waiter re-inspects after taking the lock and finds the other's fresh image.
import { execFile as execFileCb } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, open, readdir, readFile, readlink, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { engineAddress } from './engine';
import { tarStream, type TarEntry } from './tar';

const execFile = promisify(execFileCb);

export const BUSYBOX_IMAGE = 'busybox:latest';
export const NODE_IMAGE = 'node:20-bookworm-slim';
export const TEST_IMAGE_LABEL = 'karvon.test-image';

const HOST_BUSYBOX = '/bin/busybox';
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const LOCK_STALE_MS = 10 * 60_000;
const LOCK_WAIT_MS = 5 * 60_000;

export type ImageOutcome = 'cached' | 'built';

/** Makes sure `busybox:latest` and `node:20-bookworm-slim` exist and match this host; idempotent. */
export async function ensureBaseImages(docker: Docker): Promise<Record<string, ImageOutcome>> {
  const recipes = await baseImageRecipes();
  const outcome: Record<string, ImageOutcome> = {};
  const stale: Recipe[] = [];
  for (const r of recipes) {
    if ((await labelOf(docker, r.tag)) === r.fingerprint) outcome[r.tag] = 'cached';
    else stale.push(r);
  }
  if (stale.length === 0) return outcome;
  await withLock(lockPath(), async () => {
    await Promise.all(
      stale.map(async (r) => {
        // Another worker may have built it while we waited for the lock.
        if ((await labelOf(docker, r.tag)) === r.fingerprint) outcome[r.tag] = 'cached';
        else {
          await buildImage(docker, r);
          outcome[r.tag] = 'built';
        }
      }),
    );
  });
  return outcome;
}

interface Recipe {
  tag: string;
  fingerprint: string;
  changes: string[];
  entries: () => Promise<TarEntry[]>;
}

async function labelOf(docker: Docker, tag: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(tag).inspect();
    return info.Config?.Labels?.[TEST_IMAGE_LABEL];
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

async function buildImage(docker: Docker, r: Recipe): Promise<void> {
  const previous = await docker
    .getImage(r.tag)
    .inspect()
    .then((i) => i.Id)
    .catch(() => undefined);
  const colon = r.tag.lastIndexOf(':');
  const response = await docker.importImage(tarStream(await r.entries()), {
    repo: r.tag.slice(0, colon),
    tag: r.tag.slice(colon + 1),
    message: 'karvon test base image (built from host files)',
    changes: [...r.changes, `LABEL ${TEST_IMAGE_LABEL}=${r.fingerprint}`],
  });
  const lines = (await readAll(response)).split(/\r?\n/).filter((l) => l.trim());
  for (const line of lines) {
    const msg = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
    if (msg.error || msg.errorDetail) throw new Error(`docker import of ${r.tag} failed: ${msg.errorDetail?.message ?? msg.error}`);
  }
  if ((await labelOf(docker, r.tag)) !== r.fingerprint) throw new Error(`docker import of ${r.tag} did not tag the image (${lines.join(' ')})`);
  // The old image is now untagged; drop it unless a container still uses it.
  if (previous) {
    const now = await docker.getImage(r.tag).inspect();
    if (now.Id !== previous) await docker.getImage(previous).remove().catch(() => undefined);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Recipes

interface HostInputs {
  recipeHash: string;
  busybox: Stats;
  nodeStat: Stats;
  /** Shared libraries as the dynamic linker names them (image path = host path; content follows symlinks). */
  libs: string[];
  libStats: Stats[];
  npmDir: string;
  npmVersion: string;
  npmStat: Stats;
  caBundle: boolean;
}

let hostInputsMemo: Promise<HostInputs> | undefined;

function hostInputs(): Promise<HostInputs> {
  hostInputsMemo ??= readHostInputs();
  hostInputsMemo.catch(() => (hostInputsMemo = undefined));
  return hostInputsMemo;
}

async function readHostInputs(): Promise<HostInputs> {
  const busybox = await stat(HOST_BUSYBOX).catch(() => {
    throw new Error(`${HOST_BUSYBOX} is missing: install the busybox-static package`);
  });
  const libs = await sharedLibraries(process.execPath);
  const npmDir = await hostNpmDir();
  const npmPkg = path.join(npmDir, 'package.json');
  const [nodeStat, libStats, npmStat, npmVersion, caBundle, recipeHash] = await Promise.all([
    stat(process.execPath),
    Promise.all(libs.map((l) => stat(l))),
    stat(npmPkg),
    readFile(npmPkg, 'utf8').then((t) => (JSON.parse(t) as { version: string }).version),
    stat(HOST_CA_BUNDLE).then(
      () => true,
      () => false,
    ),
    recipeSourceHash(),
  ]);
  return { recipeHash, busybox, nodeStat, libs, libStats, npmDir, npmVersion, npmStat, caBundle };
}

/** A hash of this file and the tar writer: editing the recipe invalidates the images. */
async function recipeSourceHash(): Promise<string> {
  const h = createHash('sha256');
  for (const file of ['base-images.ts', 'tar.ts']) {
    h.update(await readFile(fileURLToPath(new URL(file, import.meta.url))).catch(() => Buffer.from(file)));
  }
  return h.digest('hex');
}

/** `ldd` (argv, no shell) of a binary: absolute library paths, the dynamic loader included. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await execFile('ldd', [binary]);
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    if (/=>\s*not found/.test(line)) throw new Error(`ldd ${binary}: ${line.trim()}`);
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return [...new Set(libs)];
}

/** The host's global npm package: next to the node binary, else `npm root -g`. */
async function hostNpmDir(): Promise<string> {
  const beside = path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  if (await stat(path.join(beside, 'package.json')).then(() => true, () => false)) return beside;
  const { stdout } = await execFile('npm', ['root', '-g']);
  return path.join(stdout.trim(), 'npm');
}

function fingerprint(...parts: unknown[]): string {
  const norm = (v: unknown): unknown =>
    v && typeof v === 'object' && 'mtimeMs' in v && 'size' in v ? [(v as Stats).size, (v as Stats).mtimeMs, (v as Stats).ino] : v;
  return createHash('sha256')
    .update(JSON.stringify(parts, (_k, v: unknown) => norm(v)))
    .digest('hex')
    .slice(0, 32);
}

async function baseImageRecipes(): Promise<Recipe[]> {
  const host = await hostInputs();
  return [
    {
      tag: BUSYBOX_IMAGE,
      fingerprint: fingerprint('busybox', host.recipeHash, host.busybox),
      changes: [`ENV PATH=${PATH_ENV}`, 'CMD ["sh"]'],
      entries: async () =>
        withParents([
          ...(await busyboxEntries()),
          { type: 'dir', path: '/root', mode: 0o700 },
          { type: 'dir', path: '/tmp', mode: 0o1777 },
          { type: 'dir', path: '/var/tmp', mode: 0o1777 },
          { type: 'dir', path: '/home' },
          { type: 'file', path: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' },
          { type: 'file', path: '/etc/group', content: 'root:x:0:\nnobody:x:65534:\n' },
        ]),
    },
    {
      tag: NODE_IMAGE,
      fingerprint: fingerprint('node', host.recipeHash, process.version, host.nodeStat, host.libs, host.libStats, host.busybox, host.npmDir, host.npmVersion, host.npmStat, host.caBundle),
      changes: [`ENV PATH=${PATH_ENV}`, `ENV NODE_VERSION=${process.version.slice(1)}`, 'CMD ["node"]'],
      entries: async () =>
        withParents([
          ...(await busyboxEntries()),
          { type: 'file', path: '/usr/local/bin/node', source: process.execPath, mode: 0o755 },
          ...host.libs.map((l): TarEntry => ({ type: 'file', path: l, source: l, mode: 0o755 })),
          ...(await treeEntries(host.npmDir, '/usr/local/lib/node_modules/npm')),
          { type: 'symlink', path: '/usr/local/bin/npm', target: '../lib/node_modules/npm/bin/npm-cli.js' },
          { type: 'symlink', path: '/usr/local/bin/npx', target: '../lib/node_modules/npm/bin/npx-cli.js' },
          ...(host.caBundle ? [{ type: 'file', path: HOST_CA_BUNDLE, source: HOST_CA_BUNDLE, mode: 0o644 } as const] : []),
          { type: 'dir', path: '/root', mode: 0o700 },
          { type: 'dir', path: '/home/node', uid: 1000, gid: 1000 },
          { type: 'dir', path: '/tmp', mode: 0o1777 },
          { type: 'dir', path: '/var/tmp', mode: 0o1777 },
          {
            type: 'file',
            path: '/etc/passwd',
            content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nnode:x:1000:1000::/home/node:/bin/sh\n',
          },
          { type: 'file', path: '/etc/group', content: 'root:x:0:\nnogroup:x:65534:\nnode:x:1000:\n' },
        ]),
    },
  ];
}

/** /bin/busybox, every applet as a /bin symlink to it (sh, echo, cat, sleep, wget, nc, httpd, …), /usr/bin/env. */
async function busyboxEntries(): Promise<TarEntry[]> {
  const { stdout: ldd } = await execFile('ldd', [HOST_BUSYBOX]).catch((e: { stdout?: string; stderr?: string }) => ({
    stdout: `${e.stdout ?? ''}${e.stderr ?? ''}`,
  }));
  if (!/not a dynamic executable|statically linked/.test(ldd)) {
    throw new Error(`${HOST_BUSYBOX} is not static: install busybox-static (ldd says: ${ldd.trim()})`);
  }
  const { stdout } = await execFile(HOST_BUSYBOX, ['--list']);
  const applets = stdout.split('\n').filter((a) => /^[\w.[\]-]+$/.test(a) && a !== 'busybox');
  return [
    { type: 'file', path: '/bin/busybox', source: HOST_BUSYBOX, mode: 0o755 },
    ...applets.map((a): TarEntry => ({ type: 'symlink', path: `/bin/${a}`, target: 'busybox' })),
    { type: 'symlink', path: '/usr/bin/env', target: '/bin/busybox' },
  ];
}

/** A host directory tree (files, dirs, symlinks; modes kept, owned by root) placed at `at`. */
export async function treeEntries(hostDir: string, at: string): Promise<TarEntry[]> {
  // Fully parallel: on this kind of machine each fs call costs a thread-pool round trip.
  const walk = async (host: string, inImage: string): Promise<TarEntry[]> => {
    const st = await lstat(host);
    if (st.isSymbolicLink()) return [{ type: 'symlink', path: inImage, target: await readlink(host) }];
    if (st.isFile()) return [{ type: 'file', path: inImage, source: host, mode: st.mode & 0o7777 }];
    if (!st.isDirectory()) return []; // sockets, fifos, devices: not part of a package tree
    const names = (await readdir(host)).sort();
    const children = await Promise.all(names.map((n) => walk(path.join(host, n), path.posix.join(inImage, n))));
    return [{ type: 'dir', path: inImage, mode: st.mode & 0o7777 }, ...children.flat()];
  };
  return walk(hostDir, at);
}

/** Dedupes by path (last wins), adds missing parent directories, and orders parents first. */
function withParents(entries: TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  for (const e of entries) byPath.set(e.path.replace(/^\/+/, '').replace(/\/+$/, ''), e);
  for (const p of [...byPath.keys()]) {
    for (let d = path.posix.dirname(p); d !== '.' && d !== '/'; d = path.posix.dirname(d)) {
      if (!byPath.has(d)) byPath.set(d, { type: 'dir', path: d, mode: 0o755 });
    }
  }
  return [...byPath.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
}

// ---------------------------------------------------------------------------------------------
// Lock

function lockPath(): string {
  const id = createHash('sha256').update(engineAddress()).digest('hex').slice(0, 12);
  return path.join(tmpdir(), `karvon-test-images-${id}.lock`);
}

/** Runs `fn` holding an exclusive lock file (created with O_EXCL); steals it from dead or stuck holders. */
async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await lockIsStale(file)) {
      await unlink(file).catch(() => undefined);
      continue;
    }
    if (Date.now() - started > LOCK_WAIT_MS) throw new Error(`timed out waiting for ${file} (remove it if no test run is building images)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await fn();
  } finally {
    await unlink(file).catch(() => undefined);
  }
}

async function lockIsStale(file: string): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    if (Date.now() - st.mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number.parseInt(text, 10);
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - st.mtimeMs > 5_000; // still being written?
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    return false; // vanished between open and read: just retry
  }
}
