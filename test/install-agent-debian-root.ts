// A throwaway Debian 12 root for install-agent-root.int.test.ts: `debootstrap --variant=minbase`
// once, kept as a tarball under /var/cache/karvon-test-root keyed by DEBIAN_ROOT_VERSION (bump it
// to rebuild), and `docker import`ed as an image. Reruns reuse the image, or the tarball when the
// image was pruned; only the first run on a machine needs the Debian mirror (about 2 minutes).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What the root holds; part of the cache key and the image tag. */
export const DEBIAN_ROOT_VERSION = 'bookworm-minbase-curl-git-iptables-1';
const CACHE_DIR = '/var/cache/karvon-test-root';
const MIRROR = process.env.KARVON_TEST_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
// A fresh minimal server, plus what the documented command needs to run at all (curl, and
// ca-certificates for https) and what the installer would otherwise fetch from the mirror on
// every test run (git, iptables): the runs stay off the network.
const INCLUDE = ['curl', 'ca-certificates', 'git', 'iptables'];

export const debianRootImage = `karvon-test-root:${DEBIAN_ROOT_VERSION}`;

async function imageExists(tag: string): Promise<boolean> {
  return run('docker', ['image', 'inspect', '--format', '{{.Id}}', tag]).then(
    () => true,
    () => false,
  );
}

async function debootstrapTarball(tarball: string): Promise<void> {
  const which = await run('sh', ['-c', 'command -v debootstrap']).catch(() => undefined);
  if (!which) throw new Error('debootstrap is not installed: apt-get install debootstrap (.ci/run installs it)');
  await mkdir(CACHE_DIR, { recursive: true });
  const work = path.join(CACHE_DIR, `${DEBIAN_ROOT_VERSION}.partial-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  try {
    await run('debootstrap', ['--variant=minbase', `--include=${INCLUDE.join(',')}`, 'bookworm', work, MIRROR], {
      timeout: 15 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    // The downloaded .debs are not part of a server's root.
    await run('sh', ['-c', 'rm -f "$1"/var/cache/apt/archives/*.deb', 'sh', work]);
    await run('tar', ['--numeric-owner', '-cf', `${tarball}.tmp`, '-C', work, '.'], { timeout: 5 * 60_000 });
    await rename(`${tarball}.tmp`, tarball);
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(`${tarball}.tmp`, { force: true });
  }
}

/** The image's tag, made (and the root debootstrapped) only when missing. */
export async function ensureDebianRootImage(): Promise<string> {
  if (await imageExists(debianRootImage)) return debianRootImage;
  const tarball = path.join(CACHE_DIR, `${DEBIAN_ROOT_VERSION}.tar`);
  if (!existsSync(tarball)) await debootstrapTarball(tarball);
  await run('docker', ['import', tarball, debianRootImage], { timeout: 5 * 60_000 });
  return debianRootImage;
}
