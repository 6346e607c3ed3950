import pg from 'pg';
import type { Logger } from 'pino';
import type { Knex } from 'knex';

/**
 * Wake-up hints between control-plane processes: whoever commits work for a node NOTIFYs its id
 * (delivered only if the transaction commits); every process LISTENs and checks the nodes whose
 * sockets it holds. Hints can be lost (a listener reconnecting); the dispatcher's poll is the truth.
 */
export const NODE_CHANNEL = 'karvon_node_work';

/** What changed for the nodes: their desired state, or their task queue. */
export type WorkKind = 'state' | 'task';

/**
 * NOTIFY payloads for these nodes: `kind:id,id,…`. A payload is limited to 8000 bytes and node ids
 * are ~25, so ids go 200 to a payload.
 */
export function notifyPayloads(nodeIds: readonly string[], kind: WorkKind): string[] {
  const out: string[] = [];
  for (let i = 0; i < nodeIds.length; i += 200) out.push(`${kind}:${nodeIds.slice(i, i + 200).join(',')}`);
  return out;
}

/** Wakes the nodes' dispatchers at commit of `trx` (one statement, whatever the count). */
export async function notifyNodes(trx: Knex | Knex.Transaction, nodeIds: readonly string[], kind: WorkKind = 'state'): Promise<void> {
  if (nodeIds.length === 0) return;
  await trx.raw('select pg_notify(?, p) from unnest(?::text[]) p', [NODE_CHANNEL, notifyPayloads(nodeIds, kind)]);
}

/** The inverse of notifyPayloads; anything else on the channel is ignored. */
export function parseWakeup(payload: string | undefined): { kind: WorkKind; nodeIds: string[] } | undefined {
  const m = /^(state|task):(.+)$/.exec(payload ?? '');
  return m ? { kind: m[1] as WorkKind, nodeIds: m[2]!.split(',') } : undefined;
}

export interface NodeWakeups {
  stop(): Promise<void>;
}

export function listenForNodeWork(opts: { url: string; logger: Logger; onWake(nodeIds: string[], kind: WorkKind): void }): NodeWakeups {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: opts.url, application_name: 'karvon-wakeups' });
    c.on('notification', (msg) => {
      const wake = msg.channel === NODE_CHANNEL ? parseWakeup(msg.payload) : undefined;
      if (wake) opts.onWake(wake.nodeIds, wake.kind);
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
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
