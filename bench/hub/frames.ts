// Frames the simulated agents send, built and validated with the protocol package once, then
// reused as text (a heartbeat only gets a fresh `sentAt`), so the simulators stay cheap.
import { encodeFrame, PROTOCOL_VERSION, type AllocationStatus, type NodeFacts } from '@karvon/protocol';
import { sampleUsage } from '@karvon/protocol/testing';

export function benchFacts(hostname: string): NodeFacts {
  return {
    hostname,
    cpu: { cores: 8, model: 'Bench EPYC 7302P' },
    memoryMb: 32_768,
    disk: { totalMb: 960_000, freeMb: 700_000, path: '/var/lib/docker' },
    os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0-18-amd64', arch: 'x64' },
    dockerVersion: '24.0.7',
  };
}

export function helloText(hostname: string): string {
  return encodeFrame({
    type: 'hello',
    payload: { protocolVersion: PROTOCOL_VERSION, agentVersion: 'bench-sim', facts: benchFacts(hostname), appliedGeneration: 0 },
  });
}

function allocation(i: number): AllocationStatus {
  return {
    allocationId: `alloc_bench${String(i).padStart(12, '0')}`,
    state: 'healthy',
    containerId: (i.toString(16).padStart(4, '0') + 'f3a9c0de5b71').repeat(4).slice(0, 64),
    upstream: `10.42.${i}.17:3000`,
    restarts: 0,
    cpuPercent: 3.25,
    memoryMb: 187.5,
    startedAt: '2030-01-01T00:00:00.000Z',
  };
}

const SENT_AT = '2030-01-01T00:00:00.000Z';

/**
 * A heartbeat of at least `minBytes` (allocations are added until it is): returns the text split
 * around `sentAt`, so `prefix + new Date().toISOString() + suffix` is a valid frame of the same size.
 */
export function heartbeatTemplate(minBytes: number): { prefix: string; suffix: string; bytes: number; allocations: number } {
  let allocations = 0;
  for (;;) {
    const text = encodeFrame({
      type: 'heartbeat',
      payload: {
        sentAt: SENT_AT,
        appliedGeneration: 0,
        usage: { ...sampleUsage, containerCount: allocations },
        allocations: Array.from({ length: allocations }, (_, i) => allocation(i)),
      },
    });
    const bytes = Buffer.byteLength(text);
    if (bytes >= minBytes || allocations >= 100) {
      const at = text.indexOf(SENT_AT);
      return { prefix: text.slice(0, at), suffix: text.slice(at + SENT_AT.length), bytes, allocations };
    }
    allocations += 1;
  }
}
