import type { Task } from '@karvon/protocol';

/**
 * A dispatcher in this process that takes tasks queued by this process straight to the sockets it
 * holds: the task row is written already claimed for the node's current session (in the queueing
 * statement, committed durably) and the frame goes out as soon as that statement returns, with no
 * wake-up, no claim statement and no flush batch on the way. Everything else about the task is as
 * if the dispatcher had claimed it: fenced by the session generation, redelivered to the node's next
 * session if this one ends first, answered from the agent's journal if repeated.
 */
export interface DirectDispatch {
  /**
   * The node's session here when a task for it may go out at once: it is connected here and no
   * flush of it is pending or running (whose frames must not be overtaken).
   */
  directSession(nodeId: string): number | undefined;
  /** Sends a task claimed at its insert for `task.sessionGeneration`; false if that session is gone. */
  sendDirect(nodeId: string, task: Task): boolean;
}

const dispatchers = new Set<DirectDispatch>();

/** Offers a dispatcher for direct sends; returns the withdrawal. */
export function offerDirectDispatch(d: DirectDispatch): () => void {
  dispatchers.add(d);
  return () => dispatchers.delete(d);
}

/** For each node a dispatcher here can send to at once: its session and that dispatcher. */
export function directTargets(nodeIds: readonly string[]): Map<string, { session: number; via: DirectDispatch }> {
  const out = new Map<string, { session: number; via: DirectDispatch }>();
  if (dispatchers.size === 0) return out;
  for (const nodeId of nodeIds) {
    for (const via of dispatchers) {
      const session = via.directSession(nodeId);
      if (session !== undefined) {
        out.set(nodeId, { session, via });
        break;
      }
    }
  }
  return out;
}
