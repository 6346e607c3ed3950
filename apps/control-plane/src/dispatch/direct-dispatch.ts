import type { DesiredStatePayload, Task } from '@karvon/protocol';
import type { Db } from '../db/connect';
import type { StateFor } from './desired-state';

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
  /** The node's session here, for a desired state read by the transaction that changes it. */
  stateSession(nodeId: string): number | undefined;
  /** The nodes' desired states read through `db` (that transaction); a node it could not build is left out. */
  loadStates(db: Db, nodes: readonly StateFor[]): Promise<Map<string, DesiredStatePayload>>;
  /**
   * Sends a state read before its transaction committed, unless its session is gone (false: a
   * flush must serve the node) or a state as new went out already (true: nothing to send).
   */
  sendState(nodeId: string, state: DesiredStatePayload): boolean;
}

const dispatchers = new Set<DirectDispatch>();

/** Offers a dispatcher for direct sends; returns the withdrawal. */
export function offerDirectDispatch(d: DirectDispatch): () => void {
  dispatchers.add(d);
  return () => dispatchers.delete(d);
}

export type Holder = { session: number; via: DirectDispatch };

/** The first dispatcher here that answers a session for the node, and that session. */
function holderOf(nodeId: string, sessionOf: (via: DirectDispatch) => number | undefined): Holder | undefined {
  for (const via of dispatchers) {
    const session = sessionOf(via);
    if (session !== undefined) return { session, via };
  }
  return undefined;
}

/** For each node a dispatcher here can send a task to at once: its session and that dispatcher. */
export function directTargets(nodeIds: readonly string[]): Map<string, Holder> {
  const out = new Map<string, Holder>();
  for (const nodeId of nodeIds) {
    const holder = holderOf(nodeId, (via) => via.directSession(nodeId));
    if (holder) out.set(nodeId, holder);
  }
  return out;
}

/** Those of `nodeIds` whose sockets a dispatcher here holds (a desired state for them can go direct). */
export function heldForStates(nodeIds: readonly string[]): Set<string> {
  return new Set(nodeIds.filter((nodeId) => holderOf(nodeId, (via) => via.stateSession(nodeId))));
}

/** Desired states read inside a committing transaction, for the nodes whose sockets are held here. */
export interface DirectStates {
  /** the nodes a state was read for (their wake-up is `send`'s to decide) */
  readonly read: ReadonlySet<string>;
  /** After the commit: sends them; returns the nodes that still need a flush. */
  send(): string[];
}

const NONE: DirectStates = { read: new Set(), send: () => [] };

/**
 * Reads, through `trx` (after its writes, while it holds the nodes' locks), the desired states of
 * those of `nodeIds` whose sockets a dispatcher here holds, to send once `trx` has committed: the
 * planner's commit then reaches the socket without a wake-up, a flush batch or a statement after
 * it. The state is the one the commit makes (the transaction sees its own writes, and another
 * change to these nodes waits for their locks and bumps the generation again after it).
 */
export async function readDirectStates(trx: Db, nodeIds: readonly string[]): Promise<DirectStates> {
  const byDispatcher = new Map<DirectDispatch, StateFor[]>();
  for (const nodeId of nodeIds) {
    const holder = holderOf(nodeId, (via) => via.stateSession(nodeId));
    if (!holder) continue;
    const list = byDispatcher.get(holder.via) ?? [];
    list.push({ nodeId, sessionGeneration: holder.session });
    byDispatcher.set(holder.via, list);
  }
  if (byDispatcher.size === 0) return NONE;
  const loaded: Array<{ via: DirectDispatch; states: Map<string, DesiredStatePayload> }> = [];
  for (const [via, nodes] of byDispatcher) loaded.push({ via, states: await via.loadStates(trx, nodes) });
  return {
    read: new Set(loaded.flatMap(({ states }) => [...states.keys()])),
    send: () => loaded.flatMap(({ via, states }) => [...states].filter(([nodeId, state]) => !via.sendState(nodeId, state)).map(([nodeId]) => nodeId)),
  };
}
