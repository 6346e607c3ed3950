// Host ports for published app ports, persisted in the state dir so a restarted agent gives every
// allocation the port it had (its container is re-adopted, not re-created). Ports are handed out
// round-robin from a cursor rather than lowest-free: a port just released may still be named by a
// route somewhere, and giving it straight to another tenant's app would send that traffic there.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../state/atomic-file';

export interface PortRange {
  min: number;
  max: number;
}

const fileSchema = z.object({ version: z.literal(1), next: z.int(), ports: z.record(z.string(), z.int().min(1).max(65535)) });

export class PortsExhaustedError extends Error {}

export function createPortAllocator(stateDir: string, range: PortRange) {
  const file = path.join(stateDir, 'runtime', 'ports.json');
  let ports = new Map<string, number>();
  let next = range.min;
  /** ports found taken by something else on the host, skipped until the agent restarts */
  const avoid = new Set<number>();
  let writing: Promise<void> = Promise.resolve();

  const persist = (): Promise<void> => {
    const snapshot = JSON.stringify({ version: 1, next, ports: Object.fromEntries(ports) });
    writing = writing.catch(() => undefined).then(() => writeFileAtomic(file, snapshot));
    return writing;
  };

  const pick = (): number => {
    const held = new Set(ports.values());
    const size = range.max - range.min + 1;
    for (let i = 0; i < size; i++) {
      const candidate = range.min + ((next - range.min + i) % size);
      if (!held.has(candidate) && !avoid.has(candidate)) {
        next = candidate === range.max ? range.min : candidate + 1;
        return candidate;
      }
    }
    throw new PortsExhaustedError(`no free host port in ${range.min}-${range.max}`);
  };

  const acquire = async (allocationId: string): Promise<number> => {
    const held = ports.get(allocationId);
    if (held !== undefined) return held;
    const port = pick();
    ports.set(allocationId, port);
    await persist();
    return port;
  };

  return {
    async load(): Promise<void> {
      try {
        const parsed = fileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
        ports = new Map(Object.entries(parsed.ports));
        next = parsed.next >= range.min && parsed.next <= range.max ? parsed.next : range.min;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    },
    get(allocationId: string): number | undefined {
      return ports.get(allocationId);
    },
    all(): ReadonlyMap<string, number> {
      return ports;
    },
    /** the allocation's port, assigning one the first time (idempotent) */
    acquire,
    /** records a port found on an existing container (the state file was lost or is older) */
    async adopt(allocationId: string, port: number): Promise<void> {
      if (ports.get(allocationId) === port) return;
      ports.set(allocationId, port);
      await persist();
    },
    /** gives the allocation another port: its current one is taken by something outside Karvon */
    async reassign(allocationId: string): Promise<number> {
      const old = ports.get(allocationId);
      if (old !== undefined) avoid.add(old);
      ports.delete(allocationId);
      return acquire(allocationId);
    },
    async release(allocationId: string): Promise<void> {
      if (ports.delete(allocationId)) await persist();
    },
  };
}

export type PortAllocator = ReturnType<typeof createPortAllocator>;
