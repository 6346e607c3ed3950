// The baseline of deploy-overhead: what an operator would do by hand for the same commit, with
// the same engine and the same Dockerfile Karvon generates — `git clone`, `docker build`,
// `docker run`, then poll until the app answers. No Karvon code runs except the (pure) buildpack
// detection that writes the Dockerfile, so both paths build exactly the same image.
import { execFile as execFileCb } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { detectBuildpack } from '../../apps/agent/src/build/buildpacks/detect';
import { GENERATED_DOCKERFILE } from '../../apps/agent/src/build/buildpacks/types';
import { scanSource } from '../../apps/agent/src/build/source/scan-source';

const execFile = promisify(execFileCb);

export interface RawSource {
  url: string;
  sha: string;
  /** the git server's certificate */
  caFile: string;
}

export interface RawResult {
  /** clone → answering with `marker`, seconds */
  totalS: number;
  cloneS: number;
  buildS: number;
  /** `docker run` → answering */
  startS: number;
}

const run = (file: string, args: string[], cwd?: string, env: Record<string, string> = {}) =>
  execFile(file, args, { cwd, maxBuffer: 64 * 2 ** 20, env: { ...process.env, DOCKER_BUILDKIT: '0', ...env } });

/**
 * Polls the URLs until one answers with `marker`. A URL that answered with other text is an older
 * replica, whose code never changes, so it is not asked again: every request costs the machine
 * under test CPU while the build being timed runs. An error or no answer is asked again.
 */
export async function answering(urls: () => Promise<string[]>, marker: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const older = new Set<string>();
  for (;;) {
    for (const u of await urls()) {
      if (older.has(u)) continue;
      const body = await fetch(u, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => (r.ok ? r.text() : undefined),
        () => undefined,
      );
      if (body === undefined) continue;
      if (body.includes(marker)) return;
      older.add(u);
    }
    if (Date.now() > deadline) throw new Error(`nothing answered with ${marker} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function rawDeploy(src: RawSource, marker: string, port: number): Promise<RawResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'karvon-bench-raw-'));
  const tag = `karvon-bench-raw:${marker}`;
  const name = `karvon-bench-raw-${marker}`;
  try {
    const t0 = performance.now();
    // The environment's GIT_SSL_CAINFO (if any) would win over `-c http.sslCAInfo`: set it instead.
    await run('git', ['clone', '--quiet', '--no-checkout', '--', src.url, dir], undefined, { GIT_SSL_CAINFO: src.caFile });
    await run('git', ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', src.sha], dir);
    const t1 = performance.now();
    await rm(path.join(dir, '.git'), { recursive: true, force: true });
    const scanned = await scanSource(dir, { maxBytes: 1024 * 2 ** 20 });
    const detection = detectBuildpack(scanned.listing, 'auto');
    if (!detection.ok) throw new Error(detection.message);
    let dockerfile = 'Dockerfile';
    if (detection.plan.dockerfile !== null) {
      dockerfile = GENERATED_DOCKERFILE;
      await writeFile(path.join(dir, dockerfile), detection.plan.dockerfile);
    }
    await run('docker', ['build', '--quiet', '--file', path.join(dir, dockerfile), '--tag', tag, dir]);
    const t2 = performance.now();
    await run('docker', ['run', '--detach', '--name', name, '--env', 'PORT=8080', '--publish', `127.0.0.1:${port}:8080`, tag]);
    await answering(() => Promise.resolve([`http://127.0.0.1:${port}/`]), marker, 120_000);
    const t3 = performance.now();
    return { totalS: (t3 - t0) / 1000, cloneS: (t1 - t0) / 1000, buildS: (t2 - t1) / 1000, startS: (t3 - t2) / 1000 };
  } finally {
    await run('docker', ['rm', '--force', name]).catch(() => undefined);
    await run('docker', ['rmi', '--force', tag]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
