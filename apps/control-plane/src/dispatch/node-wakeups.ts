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

export async function notifyNodes(trx: Knex | Knex.Transaction, nodeIds: readonly string[], kind: WorkKind = 'state'): Promise<void> {
  // NOTIFY payloads are limited to 8000 bytes; node ids are ~25 bytes, so send them in chunks.
  for (let i = 0; i < nodeIds.length; i += 200) {
    await trx.raw('select pg_notify(?, ?)', [NODE_CHANNEL, `${kind}:${nodeIds.slice(i, i + 200).join(',')}`]);
  }
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
      const m = msg.channel === NODE_CHANNEL ? /^(state|task):(.+)$/.exec(msg.payload ?? '') : null;
      if (m) opts.onWake(m[2]!.split(','), m[1] as WorkKind);
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
