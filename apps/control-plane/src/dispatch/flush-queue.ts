import type { WorkKind } from './node-wakeups';

/** What a node's next flush must look at. */
export interface NodeWork {
  /** its desired state (a `state` hint, a new session, the poll) */
  state: boolean;
  /** its task queue (a `task` hint, a new session, the poll) */
  tasks: boolean;
}

/**
 * The nodes waiting for a flush, and those in one. Wake-ups for a node coalesce until a batch takes
 * it; a node is in at most one batch at a time, so its frames go out in order and one session's
 * claims never race each other. A node woken while in a batch waits for the next.
 */
export class FlushQueue {
  private readonly pending = new Map<string, NodeWork>();
  private readonly inFlight = new Set<string>();

  /** Without a kind, everything is looked at. */
  add(nodeId: string, kind?: WorkKind): void {
    const work = this.pending.get(nodeId);
    const state = kind !== 'task';
    const tasks = kind !== 'state';
    if (work) {
      work.state ||= state;
      work.tasks ||= tasks;
    } else {
      this.pending.set(nodeId, { state, tasks });
    }
  }

  /** Some pending node is not in a batch. */
  get ready(): boolean {
    if (this.pending.size > this.inFlight.size) return true;
    for (const id of this.pending.keys()) if (!this.inFlight.has(id)) return true;
    return false;
  }

  /** Up to `max` pending nodes that are not in a batch, oldest wake-up first; they are now in one. */
  take(max: number): Array<[string, NodeWork]> {
    const batch: Array<[string, NodeWork]> = [];
    for (const [id, work] of this.pending) {
      if (batch.length >= max) break;
      if (this.inFlight.has(id)) continue;
      batch.push([id, work]);
    }
    for (const [id] of batch) {
      this.pending.delete(id);
      this.inFlight.add(id);
    }
    return batch;
  }

  /** The batch holding these nodes is over; wake-ups that came meanwhile are pending. */
  done(nodeIds: readonly string[]): void {
    for (const id of nodeIds) this.inFlight.delete(id);
  }

  /** The node is waiting for a flush or in one. */
  has(nodeId: string): boolean {
    return this.pending.has(nodeId) || this.inFlight.has(nodeId);
  }

  forget(nodeId: string): void {
    this.pending.delete(nodeId);
  }
}
