// The quickstart's one node: an agent on this host's Docker engine, its state dir under the data
// dir. Registered once (a registration token from the admin API, then `karvon-agent register`);
// every later start reuses node.json, so there is never a second node for the same machine.
import { spawn } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LOCAL_REGION } from './seed-catalog.mjs';

export const LOCAL_NODE_NAME = 'local';

/** @param {string} stateDir */
async function readIdentity(stateDir) {
  try {
    return JSON.parse(await readFile(path.join(stateDir, 'node.json'), 'utf8'));
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Makes sure the state dir holds the credential of a node the control plane knows; returns its id.
 * @param {{
 *   api: { request: (method: string, path: string, body?: unknown, opts?: { accept?: number[] }) => Promise<{ status: number, body: any }> },
 *   controlPlaneUrl: string, stateDir: string, agentBin: string, env: NodeJS.ProcessEnv,
 *   say: (line: string) => void,
 * }} o
 * @returns {Promise<{ nodeId: string, registered: boolean }>}
 */
export async function ensureLocalNode(o) {
  const identity = await readIdentity(o.stateDir);
  if (identity) {
    const { status } = await o.api.request('GET', `/admin/nodes/${identity.nodeId}`, undefined, { accept: [200, 404] });
    if (status === 200) {
      // Same node, another port (KARVON_PORT changed): the credential is still good, the address is not.
      if (identity.controlPlane !== o.controlPlaneUrl) {
        await writeFile(path.join(o.stateDir, 'node.json'), JSON.stringify({ ...identity, controlPlane: o.controlPlaneUrl }, null, 2) + '\n', { mode: 0o600 });
      }
      return { nodeId: identity.nodeId, registered: false };
    }
    // The database was reset or the node deleted: this credential opens nothing any more.
    const aside = path.join(o.stateDir, `node.json.removed-${Date.now()}`);
    await rename(path.join(o.stateDir, 'node.json'), aside);
    o.say(`the control plane no longer knows node ${identity.nodeId}; its credential is kept as ${aside}, registering again`);
  }
  const { body: issued } = await o.api.request('POST', '/admin/node-tokens', { region: LOCAL_REGION.id, labels: ['builder'], ttlSeconds: 600 });
  const args = [o.agentBin, 'register', '--control-plane', o.controlPlaneUrl, '--token', issued.token, '--state-dir', o.stateDir, '--name', LOCAL_NODE_NAME];
  const code = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env: o.env });
    child.on('error', reject);
    child.on('exit', (c, signal) => resolve(c ?? signal));
  });
  if (code !== 0) throw new Error(`karvon-agent register exited with ${code}`);
  const registered = await readIdentity(o.stateDir);
  if (!registered) throw new Error(`karvon-agent register left no node.json in ${o.stateDir}`);
  return { nodeId: registered.nodeId, registered: true };
}

/**
 * Starts `karvon-agent run` as a child in its own process group: a terminal's Ctrl-C then reaches
 * only the quickstart, which stops the agent before the control plane (see start.mjs).
 * @param {{ agentBin: string, stateDir: string, env: NodeJS.ProcessEnv }} o
 */
export function startLocalAgent(o) {
  return spawn(process.execPath, [o.agentBin, 'run', '--state-dir', o.stateDir], { stdio: ['ignore', 'inherit', 'inherit'], env: o.env, detached: true });
}
