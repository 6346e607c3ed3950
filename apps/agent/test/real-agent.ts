// A real agent process for integration tests: a node registered through the admin API (token, then
// `karvon-agent register`) and `karvon-agent run` against this host's engine, with the settings every
// such test needs (loopback advertise address, a port range of this test file's own, no drain
// delay). stop() kills it and removes what it left: its containers, networks, built images, state.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type { ApiClient } from '../../../test/api-client';
import { registrationToken } from '../../../test/agents';
import { nodeBin, startProcess, type RunningProcess } from '../../../test/processes';
import { removeNodeObjects, testPortRange } from './runtime-fixtures';

const bin = nodeBin('apps/agent/bin/karvon-agent.js');

export interface RealAgent {
  nodeId: string;
  /** the agent's state dir (its proxy config is in `proxy/`) */
  stateDir: string;
  proc: RunningProcess;
  stop(): Promise<void>;
}

export interface RealAgentOptions {
  controlPlaneUrl: string;
  admin: ApiClient;
  docker: Docker;
  region: string;
  name: string;
  /** the registration token's labels (e.g. `builder`) */
  labels?: string[];
  /** more KARVON_* settings for `run` */
  env?: Record<string, string>;
}

export async function startRealAgent(o: RealAgentOptions): Promise<RealAgent> {
  const stateDir = await mkdtemp(path.join(tmpdir(), `karvon-agent-${o.name}-`));
  const token = await registrationToken(o.admin, o.region, o.labels?.length ? { labels: o.labels } : {});
  const reg = startProcess(bin.file, [...bin.args, 'register', '--control-plane', o.controlPlaneUrl, '--token', token, '--state-dir', stateDir, '--name', o.name], {});
  const code = await reg.exited;
  if (code !== 0) throw new Error(`register ${o.name}: ${code}\n${reg.output()}`);
  const nodeId = (JSON.parse(await readFile(path.join(stateDir, 'node.json'), 'utf8')) as { nodeId: string }).nodeId;
  const range = testPortRange();
  const proc = startProcess(bin.file, [...bin.args, 'run', '--state-dir', stateDir], {
    KARVON_LOG_LEVEL: 'info',
    KARVON_ADVERTISE_ADDR: '127.0.0.1',
    KARVON_PORT_RANGE: `${range.min}-${range.max}`,
    KARVON_DRAIN_SECONDS: '0',
    ...o.env,
  });
  return {
    nodeId,
    stateDir,
    proc,
    async stop() {
      proc.kill('SIGKILL');
      await proc.exited;
      await removeNodeObjects(o.docker, nodeId);
      // Built images carry their builder's node label; pulled copies are the same images.
      for (const img of await o.docker.listImages({ filters: { label: [`karvon.node=${nodeId}`] } })) {
        await o.docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
      }
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
