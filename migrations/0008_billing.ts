import type { Knex } from 'knex';

// Billing (apps/control-plane/src/billing/): what the core tables lacked.
// - wallets: when the balance reached zero (the grace period runs from there) and when the apps
//   were suspended; apps: whether billing holds the app stopped (routing reads it to answer the
//   "suspended" page; a top-up starts exactly these apps again).
// - usage_records: one row per (app, hour) charged, with the replica-seconds behind the amount.
//   Its primary key is the "charged once" guarantee; the ledger's idempotency key is the second.
// - allocation_pauses: the times an allocation's desired status was `stopped`. Whatever code path
//   stops or starts an allocation, the trigger records it, so the hourly charge can subtract those
//   times from the allocation's life instead of guessing from its state at the tick.
// - notifications: in-app messages to a user (low balance, grace, suspension, resume).
// - ledger entries are append-only: a trigger refuses update and delete.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table wallets
      add column grace_started_at timestamptz,
      add column suspended_at timestamptz;

    alter table apps
      add column suspended_at timestamptz;
    create index apps_suspended on apps (owner_id) where suspended_at is not null;

    create table usage_records (
      app_id text not null references apps(id),
      hour timestamptz not null,
      owner_id text not null references users(id),
      replica_seconds bigint not null check (replica_seconds >= 0),
      amount bigint not null check (amount >= 0),
      currency text not null,
      transaction_id text,
      created_at timestamptz not null default now(),
      primary key (app_id, hour)
    );
    create index usage_records_owner on usage_records (owner_id, hour);

    create table allocation_pauses (
      allocation_id text not null references allocations(id) on delete cascade,
      paused_at timestamptz not null,
      resumed_at timestamptz,
      primary key (allocation_id, paused_at)
    );

    create function record_allocation_pause() returns trigger language plpgsql as $$
    begin
      if new.desired_status = 'stopped' and (tg_op = 'INSERT' or old.desired_status <> 'stopped') then
        insert into allocation_pauses (allocation_id, paused_at) values (new.id, clock_timestamp())
          on conflict do nothing;
      elsif new.desired_status <> 'stopped' and tg_op = 'UPDATE' and old.desired_status = 'stopped' then
        update allocation_pauses set resumed_at = clock_timestamp()
          where allocation_id = new.id and resumed_at is null;
      end if;
      return null;
    end $$;
    create trigger allocations_pause_history
      after insert or update of desired_status on allocations
      for each row execute function record_allocation_pause();
    -- allocations stopped before this migration: paused since their last change
    insert into allocation_pauses (allocation_id, paused_at)
      select id, updated_at from allocations where desired_status = 'stopped' and stopped_at is null;

    create table notifications (
      id text primary key,
      user_id text not null references users(id),
      kind text not null,
      message text not null,
      data jsonb not null default '{}',
      -- one notification per (user, key): the low-balance episode it belongs to, say
      dedupe_key text,
      read_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index notifications_user on notifications (user_id, created_at desc, id desc);
    create unique index notifications_once on notifications (user_id, dedupe_key) where dedupe_key is not null;

    create index ledger_entries_transaction on ledger_entries (transaction_id);
    create function refuse_ledger_change() returns trigger language plpgsql as $$
    begin
      raise exception 'ledger entries are append-only (% refused)', tg_op;
    end $$;
    create trigger ledger_entries_append_only
      before update or delete on ledger_entries
      for each row execute function refuse_ledger_change();
  `);
}
