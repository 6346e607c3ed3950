import { hostname } from 'node:os';
import type Docker from 'dockerode';
import si from 'systeminformation';
import type { NodeFacts } from '@karvon/protocol';

const MB = 1024 * 1024;

/** Docker's data root (where images and containers live), or undefined when no engine answers. */
export async function dockerFacts(docker: Docker): Promise<{ version: string; dataRoot: string } | undefined> {
  try {
    const info = (await docker.info()) as { ServerVersion?: string; DockerRootDir?: string };
    return { version: info.ServerVersion ?? 'unknown', dataRoot: info.DockerRootDir ?? '/var/lib/docker' };
  } catch {
    return undefined;
  }
}

/** The filesystem holding `dir`: the mount with the longest prefix of it. */
export function filesystemFor<T extends { mount: string }>(dir: string, filesystems: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const fs of filesystems) {
    const prefix = fs.mount.endsWith('/') ? fs.mount : `${fs.mount}/`;
    if ((dir === fs.mount || dir.startsWith(prefix) || fs.mount === '/') && (!best || fs.mount.length > best.mount.length)) best = fs;
  }
  return best;
}

export async function collectFacts(docker: Docker): Promise<NodeFacts> {
  const [cpu, mem, os, filesystems, engine] = await Promise.all([si.cpu(), si.mem(), si.osInfo(), si.fsSize(), dockerFacts(docker)]);
  const dataRoot = engine?.dataRoot ?? '/';
  const fs = filesystemFor(dataRoot, filesystems);
  return {
    hostname: hostname().slice(0, 253) || 'unknown',
    cpu: { cores: Math.max(1, cpu.cores), model: `${cpu.manufacturer} ${cpu.brand}`.trim().slice(0, 256) },
    memoryMb: Math.floor(mem.total / MB),
    disk: { totalMb: Math.floor((fs?.size ?? 0) / MB), freeMb: Math.floor((fs?.available ?? 0) / MB), path: dataRoot },
    os: {
      platform: os.platform.slice(0, 64),
      distro: os.distro.slice(0, 128),
      release: os.release.slice(0, 128),
      kernel: os.kernel.slice(0, 128),
      arch: os.arch.slice(0, 32),
    },
    dockerVersion: engine ? engine.version.slice(0, 64) : null,
  };
}
