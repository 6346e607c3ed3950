// The last lines a container wrote, for failure reports (crash loop, never healthy).
import type Docker from 'dockerode';

/**
 * Splits Docker's multiplexed (non-TTY) log payload: 8-byte frame headers [stream, 0, 0, 0,
 * size uint32 BE] then `size` bytes. stdout and stderr are interleaved in order of writing.
 * A payload that is not framed (a TTY container) is returned as it is.
 */
export function demuxLogs(payload: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= payload.length) {
    const kind = payload[at];
    if ((kind !== 0 && kind !== 1 && kind !== 2) || payload[at + 1] !== 0 || payload[at + 2] !== 0 || payload[at + 3] !== 0) {
      return payload.toString('utf8');
    }
    const size = payload.readUInt32BE(at + 4);
    parts.push(payload.subarray(at + 8, Math.min(payload.length, at + 8 + size)));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

export async function lastLogLines(docker: Docker, containerId: string, lines = 20): Promise<string[]> {
  try {
    const payload = await docker.getContainer(containerId).logs({ stdout: true, stderr: true, follow: false, tail: lines });
    return demuxLogs(payload)
      .split(/\r?\n/)
      .filter((l) => l.length > 0)
      .slice(-lines);
  } catch (e) {
    return [`(logs unavailable: ${(e as Error).message})`];
  }
}
