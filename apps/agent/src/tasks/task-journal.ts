import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TaskResultPayload } from '@karvon/protocol';
import { writeFileAtomic } from '../state/atomic-file';

export interface JournalEntry {
  taskId: string;
  idempotencyKey: string;
  kind: string;
  status: 'started' | 'finished';
  /** how many times this agent began executing it (1 in the normal case) */
  executions: number;
  startedAt: string;
  result?: TaskResultPayload;
}

/**
 * One small file per idempotency key, replaced atomically: written `started` before the work
 * begins and `finished` with the result before the result is sent. A redelivered task with a
 * finished entry gets the recorded result; nothing is done twice.
 */
export function createTaskJournal(stateDir: string) {
  const dir = path.join(stateDir, 'tasks');
  const fileFor = (key: string) => path.join(dir, `${createHash('sha256').update(key).digest('hex')}.json`);
  return {
    async get(key: string): Promise<JournalEntry | undefined> {
      try {
        return JSON.parse(await readFile(fileFor(key), 'utf8')) as JournalEntry;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async put(entry: JournalEntry): Promise<void> {
      await writeFileAtomic(fileFor(entry.idempotencyKey), JSON.stringify(entry));
    },
  };
}

export type TaskJournal = ReturnType<typeof createTaskJournal>;
