import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { WorkKind } from './node-wakeups';

/**
 * Wake-ups for commits made by this process, delivered in-process the moment the commit returns,
 * rather than through PostgreSQL's NOTIFY (a hop through the listener's backend, which on a busy
 * 2-core machine waits for the scheduler). The NOTIFY still goes out, tagged with this process's
 * origin, for the other control planes; this process's own listeners skip what carries its origin,
 * so one commit wakes a node once. Only a commit whose completion this process sees is tagged (an
 * autocommit statement, or a transaction whose top-level commit promise is known); anything else is
 * left untagged and arrives through NOTIFY as before.
 */
export const LOCAL_ORIGIN = randomBytes(6).toString('base64url');

type LocalListener = (nodeIds: string[], kind: WorkKind) => void;
const listeners = new Set<LocalListener>();

/** Subscribes to this process's commits; returns the unsubscribe. */
export function onLocalCommit(listener: LocalListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function wakeLocally(nodeIds: readonly string[], kind: WorkKind): void {
  if (nodeIds.length === 0) return;
  for (const l of listeners) l([...nodeIds], kind);
}

/** What knex sets on a transactor (not in its typings): the promise of the outermost commit. */
interface Transactor {
  isTransaction?: boolean;
  executionPromise?: Promise<unknown>;
  parentTransaction?: Transactor;
}

/**
 * When `db` commits by itself (not a transaction), undefined: the caller wakes after its statement.
 * In a transaction: the promise of its outermost commit (a savepoint's release is not a commit), or
 * null when it cannot be known.
 */
export function commitOf(db: Knex | Knex.Transaction): Promise<unknown> | undefined | null {
  let t = db as unknown as Transactor;
  if (!t.isTransaction) return undefined;
  while (t.parentTransaction) t = t.parentTransaction;
  return t.executionPromise ?? null;
}

/** Wakes this process's listeners once `db`'s enclosing transaction commits (never on rollback). */
export function wakeAfterCommit(commit: Promise<unknown>, nodeIds: readonly string[], kind: WorkKind): void {
  commit.then(
    () => wakeLocally(nodeIds, kind),
    () => undefined,
  );
}
