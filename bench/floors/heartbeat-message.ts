// The 1 KB message of the hub floor: a heartbeat-shaped JSON object padded with spaces to exactly
// HEARTBEAT_BYTES bytes (still valid JSON), the size BENCHMARKS.md's "CPU per 1 KB heartbeat" names.
export const HEARTBEAT_BYTES = 1024;

export function heartbeatMessage(): string {
  const body = JSON.stringify({
    type: 'heartbeat',
    payload: {
      sentAt: new Date().toISOString(),
      appliedGeneration: 1,
      usage: { cpuPercent: 12.5, load1: 0.4, load5: 0.3, load15: 0.2, memoryUsedMb: 1000, memoryTotalMb: 8000, diskUsedMb: 10000, diskTotalMb: 100000, netRxBytes: 12345678, netTxBytes: 2345678, containerCount: 3 },
      allocations: [],
      pad: 'x'.repeat(600),
    },
  });
  if (body.length > HEARTBEAT_BYTES) throw new Error(`heartbeat body is ${body.length} bytes, over ${HEARTBEAT_BYTES}`);
  return body + ' '.repeat(HEARTBEAT_BYTES - body.length);
}
