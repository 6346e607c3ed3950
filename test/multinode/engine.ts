// One extra Docker engine on this machine: its own dockerd (and the containerd it manages) with its
// own data root, exec root, pid file, unix socket and address pool, so several engines run side by
// side with the main one and each is a separate "node" to Karvon.
//
// What works here (dockerd 20.10, cgroup v1, root):
// - `--bridge=kvmn<n>`: a default bridge of its own, created here with an address from its pool.
//   NOT `--bridge=none`: a dockerd started with it deletes the host's `docker0` (moby removes the
//   default bridge interface when the bridge is disabled), which breaks the main engine and every
//   other test that runs a container. The agent creates its per-tenant bridges itself (`kv-…`).
//   A RESTART with an address pool deletes docker0 too: start() puts it back (restoreHostDefaultBridge).
// - `--iptables=false --ip-masq=false`: several dockerd rewriting the same DOCKER / DOCKER-ISOLATION
//   chains fight; without iptables a published port is served by docker-proxy (the userland proxy)
//   on the host address, which is all the agent's health probes and the tests need.
// - `--default-address-pool base=10.<x>.0.0/16,size=24`: every engine takes tenant subnets from its
//   own /16, so two engines never create the same subnet on two bridges (a routing clash). `<x>`
//   is chosen free of the host's routes.
// - `--config-file` an empty file: a host /etc/docker/daemon.json (hosts, data-root…) is not read.
// Stopping (SIGTERM) stops the engine's containers, as a machine going down would; a later start
// reuses the same data root, so the stopped containers are still there for the agent to reconcile.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile as execFileCb } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const execFile = promisify(execFileCb);

export interface TestEngine {
  readonly index: number;
  readonly dir: string;
  /** `unix:///…/docker.sock` */
  readonly dockerHost: string;
  readonly docker: Docker;
  readonly running: boolean;
  /** the /16 this engine's networks come from, e.g. `10.213.0.0/16` */
  readonly pool: string;
  start(): Promise<void>;
  /** SIGTERM (containers are stopped), SIGKILL after `timeoutMs` */
  stop(timeoutMs?: number): Promise<void>;
  /** the last lines of dockerd's log */
  log(): string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** If the test process dies before afterAll, no dockerd outlives it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Second octets of 10.x.0.0/16 used by any host route now (so a new pool does not overlap). */
async function usedTenOctets(): Promise<Set<number>> {
  const used = new Set<number>();
  try {
    const { stdout } = await execFile('ip', ['-4', 'route', 'show']);
    for (const m of stdout.matchAll(/^10\.(\d+)\./gm)) used.add(Number(m[1]));
    // a wider 10/8 route would overlap everything: then we still try, dockerd reports the clash
  } catch {
    // no `ip`: take our chances
  }
  return used;
}

const claimed = new Set<number>();

/** A free 10.x.0.0/16 for one engine (random, skipping host routes and this process's engines). */
export async function freePool(): Promise<string> {
  const used = await usedTenOctets();
  for (let i = 0; i < 200; i++) {
    const x = 100 + Math.floor(Math.random() * 150);
    if (!used.has(x) && !claimed.has(x)) {
      claimed.add(x);
      return `10.${x}.0.0/16`;
    }
  }
  throw new Error('no free 10.x.0.0/16 for a test engine');
}

/**
 * Creates (does not start) an engine rooted in `dir` (kept short: containerd's sockets live under
 * the exec root and unix socket paths are limited to 108 bytes).
 */
export async function createEngine(index: number, dir: string): Promise<TestEngine> {
  installExitHook();
  await mkdir(dir, { recursive: true });
  const socket = path.join(dir, 'docker.sock');
  const configFile = path.join(dir, 'daemon.json');
  await writeFile(configFile, '{}\n');
  const pool = await freePool();
  const bridge = `kvmn${index}-${pool.split('.')[1]}`;
  const dockerHost = `unix://${socket}`;
  const docker = new Docker({ socketPath: socket });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let out = '';

  const args = [
    '--config-file', configFile,
    '--data-root', path.join(dir, 'data'),
    '--exec-root', path.join(dir, 'x'),
    '--pidfile', path.join(dir, 'docker.pid'),
    '--host', dockerHost,
    `--bridge=${bridge}`,
    '--iptables=false',
    '--ip-masq=false',
    '--ip-forward=false',
    '--default-address-pool', `base=${pool},size=24`,
    '--log-level', 'warn',
  ];

  const engine: TestEngine = {
    index,
    dir,
    dockerHost,
    docker,
    pool,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      if (engine.running) return;
      out = '';
      await ensureBridge(bridge, pool);
      const hostBridge = await hostDefaultBridge();
      const c = spawn('dockerd', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' } });
      child = c;
      live.add(c);
      const onData = (d: Buffer) => {
        out = (out + d.toString('utf8')).slice(-20_000);
      };
      c.stdout?.on('data', onData);
      c.stderr?.on('data', onData);
      exited = new Promise((resolve) => c.on('exit', () => {
        live.delete(c);
        resolve();
      }));
      const started = Date.now();
      for (;;) {
        if (!engine.running) throw new Error(`dockerd ${index} exited at start:\n${out.slice(-3000)}`);
        const ok = await docker.ping().then(() => true, () => false);
        if (ok) {
          await restoreHostDefaultBridge(hostBridge);
          return;
        }
        if (Date.now() - started > 60_000) throw new Error(`dockerd ${index} does not answer on ${socket}:\n${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop(timeoutMs = 30_000) {
      const c = child;
      if (!c || !engine.running) return;
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
    log: () => out.slice(-3000),
  };
  return engine;
}

/** The host engine's `docker0` and its IPv4 address (`172.17.0.1/16`), when there is one. */
async function hostDefaultBridge(): Promise<string | undefined> {
  const { stdout } = await execFile('ip', ['-4', '-o', 'addr', 'show', 'dev', 'docker0']).catch(() => ({ stdout: '' }));
  return /\binet (\S+)/.exec(stdout)?.[1];
}

/**
 * A dockerd RESTARTED with --default-address-pool deletes the host's `docker0`: moby clears the
 * stale "bridge" network of its own store and then removes the interface named docker0 whatever
 * its --bridge (daemon_unix.go, `removeDefaultBridgeInterface` under "Clear stale bridge
 * network"). The host engine keeps its network but loses the link, and every container it starts
 * on the default bridge fails. Put the link back as it was: same name, same address.
 */
async function restoreHostDefaultBridge(address: string | undefined): Promise<void> {
  if (!address || (await hostDefaultBridge()) !== undefined) return;
  await execFile('ip', ['link', 'add', 'name', 'docker0', 'type', 'bridge']).catch(() => undefined);
  await execFile('ip', ['addr', 'add', address, 'dev', 'docker0']).catch(() => undefined);
  await execFile('ip', ['link', 'set', 'docker0', 'up']);
  console.warn(`[multinode] a restarted dockerd removed the host's docker0; put back with ${address}`);
}

/** The engine's own default bridge, 10.x.255.1/24 inside its pool (idempotent). */
async function ensureBridge(name: string, pool: string): Promise<void> {
  const exists = await execFile('ip', ['link', 'show', name]).then(() => true, () => false);
  if (exists) return;
  const x = pool.split('.')[1];
  await execFile('ip', ['link', 'add', 'name', name, 'type', 'bridge']);
  await execFile('ip', ['addr', 'add', `10.${x}.255.1/24`, 'dev', name]);
  await execFile('ip', ['link', 'set', name, 'up']);
  bridges.add(name);
}

const bridges = new Set<string>();

/** Removes the bridges this process made (after its engines stopped). */
export async function removeBridges(): Promise<void> {
  for (const name of bridges) await execFile('ip', ['link', 'delete', name]).catch(() => undefined);
  bridges.clear();
}

/** `docker save` the images from `from` into a tar once, then `docker load` it into `engine`. */
export async function saveImages(fromHost: string | undefined, images: readonly string[], file: string): Promise<void> {
  await execFile('docker', [...(fromHost ? ['-H', fromHost] : []), 'save', '-o', file, ...images], { maxBuffer: 16 * 1024 * 1024 });
}

export async function loadImages(engine: TestEngine, file: string): Promise<void> {
  await execFile('docker', ['-H', engine.dockerHost, 'load', '-q', '-i', file], { maxBuffer: 16 * 1024 * 1024 });
}
