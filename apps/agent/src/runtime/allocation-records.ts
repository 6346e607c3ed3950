// What the agent must remember about each allocation across its own restarts: the crash history
// (so a kill -9 does not reset the crash-loop count), whether it ever became healthy (so a
// restarted agent still knows a rollout is pending), an intentional stop and a terminal failure.
// One JSON file in the state dir, replaced atomically on every change.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../state/atomic-file';

const recordSchema = z.object({
  /** total restarts made by the agent */
  restarts: z.int().min(0),
  /** epoch ms of recent restarts (pruned to the crash window) */
  recentRestarts: z.array(z.number()),
  healthyAt: z.number().optional(),
  /** stopped because desired status was `stopped`: starting it again is not a crash restart */
  stoppedByAgent: z.boolean().optional(),
  failure: z.object({ kind: z.enum(['crash-loop', 'unhealthy']), at: z.number(), message: z.string() }).optional(),
});

export type AllocationRecord = z.infer<typeof recordSchema>;
export type FailureKind = NonNullable<AllocationRecord['failure']>['kind'];

const fileSchema = z.object({ version: z.literal(1), allocations: z.record(z.string(), recordSchema) });

export const emptyRecord = (): AllocationRecord => ({ restarts: 0, recentRestarts: [] });

export function createAllocationRecords(stateDir: string) {
  const file = path.join(stateDir, 'runtime', 'allocations.json');
  let records = new Map<string, AllocationRecord>();
  // Writes are serialized so an older snapshot never lands after a newer one.
  let writing: Promise<void> = Promise.resolve();

  const persist = (): Promise<void> => {
    const snapshot = JSON.stringify({ version: 1, allocations: Object.fromEntries(records) });
    writing = writing.catch(() => undefined).then(() => writeFileAtomic(file, snapshot));
    return writing;
  };

  return {
    async load(): Promise<void> {
      try {
        const parsed = fileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
        records = new Map(Object.entries(parsed.allocations));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    },
    get(allocationId: string): AllocationRecord | undefined {
      return records.get(allocationId);
    },
    all(): ReadonlyMap<string, AllocationRecord> {
      return records;
    },
    async update(allocationId: string, change: (r: AllocationRecord) => AllocationRecord): Promise<void> {
      records.set(allocationId, change(records.get(allocationId) ?? emptyRecord()));
      await persist();
    },
    async delete(allocationId: string): Promise<void> {
      if (records.delete(allocationId)) await persist();
    },
  };
}

export type AllocationRecords = ReturnType<typeof createAllocationRecords>;
