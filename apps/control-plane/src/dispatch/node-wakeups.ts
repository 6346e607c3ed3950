import pg from 'pg';
import type { Logger } from 'pino';
import type { Knex } from 'knex';
import { commitOf, LOCAL_ORIGIN, onLocalCommit, wakeAfterCommit, wakeLocally } from './local-wakeups';

/**
 * Wake-up hints between control-plane processes: whoever commits work for a node NOTIFYs its id
 * (delivered only if the transaction commits); every process LISTENs and checks the nodes whose
 * sockets it holds. Hints can be lost (a listener reconnecting); the dispatcher's poll is the truth.
 */
export const NODE_CHANNEL = 'karvon_node_work';

/** What changed for the nodes: their desired state, or their task queue. */
export type WorkKind = 'state' | 'task';

/**
 * NOTIFY payloads for these nodes: `kind:id,id,…`, or `kind@origin:id,id,…` when the committing
 * process wakes its own dispatchers in-process (local-wakeups.ts). A payload is limited to 8000
 * bytes and node ids are ~25, so ids go 200 to a payload.
 */
export function notifyPayloads(nodeIds: readonly string[], kind: WorkKind, origin?: string): string[] {
  const out: string[] = [];
  const head = origin ? `${kind}@${origin}` : kind;
  for (let i = 0; i < nodeIds.length; i += 200) out.push(`${head}:${nodeIds.slice(i, i + 200).join(',')}`);
  return out;
}

/**
 * How a commit through `db` wakes the nodes: the NOTIFY payloads to write with it, and `woken()`
 * to call once the statement writing them has returned (it wakes this process's dispatchers at
 * once for an autocommit statement, or when the enclosing transaction commits).
 */
export function wakeupsFor(db: Knex | Knex.Transaction, nodeIds: readonly string[], kind: WorkKind): { payloads: string[]; woken(only?: readonly string[]): void } {
  const commit = commitOf(db);
  // A commit this process cannot see is not tagged: its own listeners take it from NOTIFY.
  const payloads = notifyPayloads(nodeIds, kind, commit === null ? undefined : LOCAL_ORIGIN);
  return {
    payloads,
    /** `only`: the nodes that still need their dispatcher here (the others were served already) */
    woken(only = nodeIds) {
      if (commit === undefined) wakeLocally(only, kind);
      else if (commit) wakeAfterCommit(commit, only, kind);
    },
  };
}

/** Wakes the nodes' dispatchers at commit of `trx` (one statement, whatever the count). */
export async function notifyNodes(trx: Knex | Knex.Transaction, nodeIds: readonly string[], kind: WorkKind = 'state'): Promise<void> {
  if (nodeIds.length === 0) return;
  const wake = wakeupsFor(trx, nodeIds, kind);
  await trx.raw('select pg_notify(?, p) from unnest(?::text[]) p', [NODE_CHANNEL, wake.payloads]);
  wake.woken();
}

/** The inverse of notifyPayloads; anything else on the channel is ignored. */
export function parseWakeup(payload: string | undefined): { kind: WorkKind; nodeIds: string[]; origin?: string } | undefined {
  const m = /^(state|task)(?:@([\w-]+))?:(.+)$/.exec(payload ?? '');
  if (!m) return undefined;
  return { kind: m[1] as WorkKind, nodeIds: m[3]!.split(','), ...(m[2] ? { origin: m[2] } : {}) };
}

export interface NodeWakeups {
  stop(): Promise<void>;
}

/**
 * Wake-ups from NOTIFY, and from this process's own commits in-process (whose NOTIFY, tagged with
 * this process's origin, is then skipped here: one commit, one wake-up).
 */
export function listenForNodeWork(opts: { url: string; logger: Logger; onWake(nodeIds: string[], kind: WorkKind): void }): NodeWakeups {
  let client: pg.Client | undefined;
  const unsubscribe = onLocalCommit((ids, kind) => opts.onWake(ids, kind));
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: opts.url, application_name: 'karvon-wakeups' });
    c.on('notification', (msg) => {
      const wake = msg.channel === NODE_CHANNEL ? parseWakeup(msg.payload) : undefined;
      if (wake && wake.origin !== LOCAL_ORIGIN) opts.onWake(wake.nodeIds, wake.kind);
    });
    c.on('error', (err) => {
      opts.logger.warn({ err }, 'wake-up listener lost its connection; polling continues, reconnecting');
      scheduleReconnect();
    });
    try {
      await c.connect();
      await c.query(`listen ${NODE_CHANNEL}`);
      if (stopped) await c.end();
      else client = c;
    } catch (err) {
      opts.logger.warn({ err }, 'wake-up listener cannot connect; retrying');
      await c.end().catch(() => undefined);
      scheduleReconnect();
    }
  };
  const scheduleReconnect = () => {
    client = undefined;
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 1_000);
    retry.unref();
  };
  void connect();
  return {
    async stop() {
      stopped = true;
      unsubscribe();
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
