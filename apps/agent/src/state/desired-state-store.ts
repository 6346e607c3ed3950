import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { desiredStatePayloadSchema, type DesiredStatePayload } from '@karvon/protocol';
import { writeFileAtomic } from './atomic-file';

/**
 * The last desired state received, kept in the state dir so a restarted agent knows what it
 * should run (and which generation it applied) before the control plane answers again.
 */
export function createDesiredStateStore(stateDir: string) {
  const file = path.join(stateDir, 'desired-state.json');
  let current: DesiredStatePayload | undefined;
  return {
    async load(): Promise<DesiredStatePayload | undefined> {
      try {
        current = desiredStatePayloadSchema.parse(JSON.parse(await readFile(file, 'utf8')));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      return current;
    },
    async save(state: DesiredStatePayload): Promise<void> {
      await writeFileAtomic(file, JSON.stringify(state));
      current = state;
    },
    get generation(): number {
      return current?.generation ?? 0;
    },
    get current(): DesiredStatePayload | undefined {
      return current;
    },
  };
}

export type DesiredStateStore = ReturnType<typeof createDesiredStateStore>;
