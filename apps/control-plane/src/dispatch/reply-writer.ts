import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import { applyStateAcks, applyTaskReplies, foldTaskReplies, type TaskReply } from './task-replies';

export interface ReplyWriter {
  stateAck(nodeId: string, generation: number): void;
  taskReply(reply: TaskReply): void;
  /** resolves when everything handed over so far is written (or given up) */
  idle(): Promise<void>;
}

/** A batch that fails (a deadlock with another writer, a lost connection) is tried this often. */
const ATTEMPTS = 3;

/**
 * Writes agents' replies in batches: whatever arrived while the previous batch was being written
 * goes in the next, one statement per kind (desired-state acks, task replies) per batch. One
 * batch at a time, so replies are applied in arrival order and hold one pooled connection each,
 * however many agents answer at once. Replies are durable (default synchronous commit); a reply
 * lost anyway (process crash) leaves its task open, and it is redelivered to the agent's next
 * session, whose journal answers with the recorded result.
 */
export function createReplyWriter(deps: { db: Db; logger: Logger }): ReplyWriter {
  const { db, logger } = deps;
  let acks = new Map<string, number>();
  let replies: TaskReply[] = [];
  let writing: Promise<void> | undefined;

  async function write(batchAcks: Map<string, number>, batchReplies: TaskReply[]): Promise<void> {
    const transitions = foldTaskReplies(batchReplies);
    for (let attempt = 1; ; attempt++) {
      try {
        // Acks first, in their own statement: the two touch different tables.
        await applyStateAcks(db, batchAcks);
        batchAcks = new Map();
        await applyTaskReplies(db, transitions);
        return;
      } catch (err) {
        if (attempt >= ATTEMPTS) {
          logger.warn({ err, acks: batchAcks.size, replies: transitions.length }, 'agent replies not recorded; open tasks are redelivered on reconnect');
          return;
        }
        logger.debug({ err, attempt }, 'writing agent replies failed; retrying');
      }
    }
  }

  function kick(): void {
    if (writing) return;
    writing = (async () => {
      while (acks.size > 0 || replies.length > 0) {
        const a = acks;
        const r = replies;
        acks = new Map();
        replies = [];
        await write(a, r);
      }
    })().finally(() => {
      writing = undefined;
    });
  }

  return {
    stateAck(nodeId, generation) {
      if (generation > (acks.get(nodeId) ?? -1)) acks.set(nodeId, generation);
      kick();
    },
    taskReply(reply) {
      replies.push(reply);
      kick();
    },
    async idle() {
      while (writing) await writing;
    },
  };
}
