import type { Knex } from 'knex';

// Per-allocation metrics for the app metrics API: one point per allocation and minute (the last
// sample its node reported in that minute), written by the hub's liveness flush, kept 7 days by
// the metrics pruner. app_id and node_id are copied from the allocation at insert, so a query by
// app over a time range reads this table alone.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table allocation_metrics (
      allocation_id text not null,
      app_id text not null,
      node_id text not null,
      at timestamptz not null,
      cpu_percent real,
      memory_mb real,
      net_rx_bytes bigint,
      net_tx_bytes bigint,
      primary key (allocation_id, at)
    );
    create index allocation_metrics_app_at on allocation_metrics (app_id, at);
  `);
}
