// `npm start`, the quickstart: build, start the control plane (embedded PostgreSQL in the data
// dir), seed a `local` region, plans and runtimes through the admin API, register and run one
// agent on this host's Docker engine, then print where to go and how to deploy a first app.
// Ctrl-C stops the agent, then the control plane; running it again reuses the data dir, the
// admin login, the seeds and the node. Settings come from the environment (README "Settings").
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loginAs } from './quickstart/api-client.mjs';
import { resolveAdminLogin } from './quickstart/admin-login.mjs';
import { missingImages, pingEngine, engineTarget } from './quickstart/docker-engine.mjs';
import { ensureLocalNode, startLocalAgent } from './quickstart/local-agent.mjs';
import { portProblem } from './quickstart/port-check.mjs';
import { DEFAULT_RUNTIMES, seedCatalog } from './quickstart/seed-catalog.mjs';
import { quickstartSettings } from './quickstart/settings.mjs';
import { firstAppExample } from './quickstart/first-app-example.mjs';
import { needsBuild } from './quickstart/needs-build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONTROL_PLANE_BIN = path.join(root, 'apps/control-plane/bin/karvon-control-plane.js');
const AGENT_BIN = path.join(root, 'apps/agent/bin/karvon-agent.js');
const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;

const say = (/** @type {string} */ line) => console.log(`karvon: ${line}`);
const settings = quickstartSettings(process.env);

/** @type {import('node:child_process').ChildProcess | undefined} */ let controlPlane;
/** @type {import('node:child_process').ChildProcess | undefined} */ let agent;
let stopping = false;

/** Sends SIGTERM, waits for the exit, SIGKILLs after the timeout. @param {import('node:child_process').ChildProcess | undefined} child */
function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.kill('SIGTERM');
  });
}

/** The agent first (it reports to the control plane until the end), then the control plane. @param {number} code */
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  await stopChild(agent);
  await stopChild(controlPlane);
  process.exit(code);
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(signal, () => {
    say(`${signal}: stopping`);
    void shutdown(0);
  });
}

/** Resolves when /readyz answers 200; rejects if the control plane exits first or takes too long. */
async function waitUntilReady() {
  const started = Date.now();
  while (Date.now() - started < READY_TIMEOUT_MS) {
    if (controlPlane?.exitCode !== null || controlPlane.signalCode !== null) throw new Error('the control plane exited during start (its log is above)');
    try {
      const res = await fetch(`${settings.localUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the control plane did not become ready within ${READY_TIMEOUT_MS / 1000} s`);
}

/** @param {{ request: Function }} api @param {string} nodeId */
async function waitUntilOnline(api, nodeId, timeoutMs = 60_000) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs && agent?.exitCode === null) {
    const { body } = await api.request('GET', `/admin/nodes/${nodeId}`);
    if (body.status === 'online') return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** @param {{ request: Function }} api */
async function startAgent(api) {
  const engine = await pingEngine(process.env);
  if (!engine.ok) {
    say(`no Docker engine answers at ${engineTarget(process.env).label} (${engine.reason}).`);
    say('  The control plane runs without a node, so nothing can be deployed yet. Install and start Docker');
    say('  (Debian/Ubuntu: apt-get install docker.io; then `dockerd &` if `docker info` fails), or set DOCKER_HOST,');
    say('  and run `npm start` again: the node is registered then.');
    return undefined;
  }
  await mkdir(settings.agentStateDir, { recursive: true, mode: 0o700 });
  // The agent gets no admin password or database URL: it needs only its own state dir.
  const { KARVON_ADMIN_EMAIL: _e, KARVON_ADMIN_PASSWORD: _p, DATABASE_URL: _d, ...agentEnv } = process.env;
  const node = await ensureLocalNode({ api, controlPlaneUrl: settings.localUrl, stateDir: settings.agentStateDir, agentBin: AGENT_BIN, env: agentEnv, say });
  say(node.registered ? `registered this machine as node ${node.nodeId} (region local)` : `reusing node ${node.nodeId}`);
  agent = startLocalAgent({ agentBin: AGENT_BIN, stateDir: settings.agentStateDir, env: agentEnv });
  agent.on('exit', (code, signal) => {
    if (stopping) return;
    if (code === 78) say(`the agent stopped: node ${node.nodeId} was removed or revoked. Delete ${settings.agentStateDir}/node.json and run npm start again to register anew.`);
    else say(`the agent exited (${code ?? signal}); the control plane keeps running. Run npm start again to restart it.`);
  });
  if (await waitUntilOnline(api, node.nodeId)) say(`node ${node.nodeId} is online`);
  else say(`node ${node.nodeId} is not online yet; see GET /api/v1/admin/nodes and the agent's log above`);
  const missing = await missingImages(process.env, DEFAULT_RUNTIMES.map((r) => r.baseImage));
  if (missing.length > 0) {
    say(`base images not on this engine yet: ${missing.join(', ')}. Builds pull them from Docker Hub when first needed.`);
    say('  Without a reachable registry, tag local images with these names (docker tag <local image> <name>), or point a');
    say('  runtime elsewhere: curl -XPATCH $KARVON/api/v1/admin/runtimes/node-20 -H "authorization: Bearer $TOKEN" \\');
    say('    -H "content-type: application/json" -d \'{"baseImage":"registry.example:5000/node:20-bookworm-slim"}\'');
  }
  return node.nodeId;
}

async function main() {
  const taken = await portProblem(settings.host, settings.port);
  if (taken) {
    say(`cannot listen on ${settings.host}:${settings.port} (${taken}): another program (or another npm start) holds it. Stop it, or choose another port: KARVON_PORT=8081 npm start`);
    process.exit(1);
  }
  if (settings.embeddedPostgresPort !== undefined) {
    const pgTaken = await portProblem('127.0.0.1', settings.embeddedPostgresPort);
    if (pgTaken) {
      say(`cannot start the embedded PostgreSQL on 127.0.0.1:${settings.embeddedPostgresPort} (${pgTaken}): the port is taken. Choose another: KARVON_EMBEDDED_PG_PORT=5434 npm start`);
      process.exit(1);
    }
  }

  if (await needsBuild(root)) await import('./build.mjs');
  await mkdir(settings.dataDir, { recursive: true, mode: 0o700 });
  const admin = await resolveAdminLogin(process.env, settings.dataDir);

  controlPlane = spawn(process.execPath, [CONTROL_PLANE_BIN], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      // One node and nowhere else to go: a busy laptop (CPU above the degraded mark) must not
      // refuse every deploy, so the quickstart turns the degraded check off unless it is set.
      KARVON_DEGRADED_PERCENT: '100',
      ...process.env,
      KARVON_DATA_DIR: settings.dataDir,
      KARVON_ADMIN_EMAIL: admin.email,
      KARVON_ADMIN_PASSWORD: admin.password,
    },
    // Its own process group: Ctrl-C reaches only us, and we stop the agent before it.
    detached: true,
  });
  controlPlane.on('exit', (code, signal) => {
    if (stopping) return;
    say(`the control plane exited (${code ?? signal})`);
    void shutdown(typeof code === 'number' && code !== 0 ? code : 1);
  });
  await waitUntilReady();

  const api = await loginAs(settings.localUrl, admin);
  const seeded = await seedCatalog(api);
  say(seeded.created.length > 0 ? `seeded ${seeded.created.join(', ')}` : 'region, plans and runtimes already there');
  const nodeId = await startAgent(api);

  console.log('');
  say(`Karvon is running: ${settings.publicUrl}`);
  if (admin.source === 'generated') {
    say(`admin login: ${admin.email} / ${admin.password}`);
    say(`  (shown once; also saved, 0600, in ${admin.file})`);
  } else if (admin.source === 'saved') {
    say(`admin login: ${admin.email} (password in ${admin.file})`);
  } else {
    say(`admin login: ${admin.email} (password from KARVON_ADMIN_PASSWORD)`);
  }
  say(`data: ${settings.dataDir}${nodeId ? `; local node ${nodeId}` : ''}`);
  console.log('');
  if (nodeId) console.log(firstAppExample({ url: settings.localUrl, admin, root }));
  say('Ctrl-C stops everything; npm start again reuses it all.');
}

main().catch((e) => {
  say(`start failed: ${/** @type {Error} */ (e).message}`);
  void shutdown(1);
});
