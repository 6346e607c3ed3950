// Run-to-completion containers for tests, with the log stream demultiplexed and cleanup guaranteed.
import type Docker from 'dockerode';

export interface DemuxedLogs {
  stdout: string;
  stderr: string;
}

/**
 * Splits a non-TTY Docker log/attach payload into stdout and stderr. Each frame is an 8-byte header
 * ([stream, 0, 0, 0, size as uint32 big-endian]; stream 0 = stdin, 1 = stdout, 2 = stderr) and then
 * `size` bytes. Bytes are joined per stream before decoding, so a UTF-8 character cut across two
 * frames survives.
 */
export function demuxDockerLogs(payload: Buffer): DemuxedLogs {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let at = 0;
  while (at < payload.length) {
    if (payload.length - at < 8) throw new Error(`docker log stream: truncated frame header at byte ${at}`);
    const kind = payload[at];
    const size = payload.readUInt32BE(at + 4);
    if ((kind !== 0 && kind !== 1 && kind !== 2) || payload[at + 1] !== 0 || payload[at + 2] !== 0 || payload[at + 3] !== 0) {
      throw new Error(`docker log stream: bad frame header at byte ${at} (is the container a TTY?)`);
    }
    const start = at + 8;
    if (start + size > payload.length) throw new Error(`docker log stream: truncated frame at byte ${at}`);
    (kind === 2 ? err : out).push(payload.subarray(start, start + size));
    at = start + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

export interface RunResult extends DemuxedLogs {
  statusCode: number;
}

/**
 * Creates and starts a container, waits for it to exit, reads its logs and removes it (also when
 * anything fails or times out). `Tty` is forced off so the logs are multiplexed frames.
 */
export async function runContainer(
  docker: Docker,
  options: Docker.ContainerCreateOptions,
  { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
): Promise<RunResult> {
  const container = await docker.createContainer({ ...options, Tty: false, AttachStdout: false, AttachStderr: false });
  let timer: NodeJS.Timeout | undefined;
  try {
    await container.start();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`container ${container.id} still running after ${timeoutMs} ms`)), timeoutMs);
    });
    const { StatusCode } = (await Promise.race([container.wait(), timeout])) as { StatusCode: number };
    const logs = await container.logs({ follow: false, stdout: true, stderr: true });
    return { statusCode: StatusCode, ...demuxDockerLogs(logs) };
  } finally {
    clearTimeout(timer);
    await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}

/** Force-removes every container (running or not) carrying all of `labels`. */
export async function removeContainersByLabel(docker: Docker, labels: Record<string, string>): Promise<number> {
  const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  const found = await docker.listContainers({ all: true, filters: { label } });
  await Promise.all(found.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  return found.length;
}
