// Which Docker engine the tests talk to, and what to do when none answers: skip the Docker tests,
// or (KARVON_REQUIRE_DOCKER=1, as CI sets it) fail them loudly instead of going green on nothing.
import Docker from 'dockerode';
import { describe, it } from 'vitest';

export type DockerTestMode = 'run' | 'skip' | 'fail';

type Env = Record<string, string | undefined>;

/** The pure decision: run when the engine answers; otherwise fail if Docker is required, else skip. */
export function dockerTestMode(env: Env, available: boolean): DockerTestMode {
  if (available) return 'run';
  return dockerRequired(env) ? 'fail' : 'skip';
}

export function dockerRequired(env: Env = process.env): boolean {
  const v = env.KARVON_REQUIRE_DOCKER?.trim().toLowerCase();
  return v === '1' || v === 'true';
}

/** The engine address as dockerode resolves it: DOCKER_HOST, else the default unix socket. */
export function engineAddress(env: Env = process.env): string {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

export function missingEngineMessage(env: Env = process.env): string {
  return `KARVON_REQUIRE_DOCKER=1 but no Docker engine answers at ${engineAddress(env)} (set DOCKER_HOST, or start dockerd)`;
}

/** A dockerode client for the engine named by DOCKER_HOST (or the default socket). */
export function newDocker(options: Docker.DockerOptions = {}): Docker {
  return new Docker(options);
}

const pings = new Map<string, Promise<boolean>>();

/** Whether the engine answers `GET /_ping` within `timeoutMs`; memoized per address and process. */
export function dockerAvailable(timeoutMs = 2_000): Promise<boolean> {
  const address = engineAddress();
  let p = pings.get(address);
  if (!p) {
    p = ping(timeoutMs);
    pings.set(address, p);
  }
  return p;
}

async function ping(timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const client = newDocker({ timeout: timeoutMs });
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const answered = client.ping().then(
      (r: unknown) => (Buffer.isBuffer(r) ? r.toString() : String(r)) === 'OK',
      () => false,
    );
    return await Promise.race([answered, timedOut]);
  } catch {
    return false; // e.g. a malformed DOCKER_HOST
  } finally {
    clearTimeout(timer);
  }
}

/** The mode for this process's environment and engine. */
export async function currentDockerTestMode(): Promise<DockerTestMode> {
  return dockerTestMode(process.env, await dockerAvailable());
}

/**
 * Inside a test: returns when Docker is usable; skips the test when it is not and not required;
 * throws the "KARVON_REQUIRE_DOCKER=1 but …" error when it is required.
 */
export async function requireDockerOrSkip(ctx: { skip: (note?: string) => void }): Promise<void> {
  const mode = await currentDockerTestMode();
  if (mode === 'fail') throw new Error(missingEngineMessage());
  if (mode === 'skip') ctx.skip(`no Docker engine at ${engineAddress()}`);
}

/** A client for a reachable engine (for beforeAll); throws the clear error when there is none. */
export async function dockerForTests(): Promise<Docker> {
  if (!(await dockerAvailable())) {
    throw new Error(dockerRequired() ? missingEngineMessage() : `no Docker engine answers at ${engineAddress()}`);
  }
  return newDocker();
}

/**
 * `describe` for suites that need Docker, deciding at collection time (use with top-level await):
 *   await describeDocker('docker smoke', () => { … });
 * run → a normal describe; skip → describe.skip; fail → one failing test carrying the message.
 */
export async function describeDocker(name: string, fn: () => void): Promise<void> {
  const mode = await currentDockerTestMode();
  if (mode === 'run') describe(name, fn);
  else if (mode === 'skip') describe.skip(name, fn);
  else {
    const message = missingEngineMessage();
    describe(name, () => {
      it('needs a Docker engine', () => {
        throw new Error(message);
      });
    });
  }
}
