import type { Knex } from 'knex';

// The core schema every later capability fills. Ids are opaque prefixed text; times are
// timestamptz; money is bigint in the currency's minor unit; flexible shapes (node facts, app
// source, deploy phases) are jsonb validated at the edge before they get here.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table users (
      id text primary key,
      email text not null,
      password_hash text not null,
      role text not null check (role in ('admin', 'customer')),
      tier text not null default 'free',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create unique index users_email_key on users (lower(email));

    create table refresh_tokens (
      id text primary key,
      user_id text not null references users(id) on delete cascade,
      family_id text not null,
      token_hash text not null unique,
      expires_at timestamptz not null,
      used_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index refresh_tokens_family on refresh_tokens (family_id);

    create table api_tokens (
      id text primary key,
      user_id text not null references users(id) on delete cascade,
      name text not null,
      token_hash text not null unique,
      last_used_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index api_tokens_user on api_tokens (user_id);

    create table regions (
      id text primary key,
      name text not null,
      registry_url text,
      created_at timestamptz not null default now()
    );

    create table plans (
      id text primary key,
      name text not null unique,
      cpu_millicores integer not null check (cpu_millicores > 0),
      memory_mb integer not null check (memory_mb > 0),
      disk_mb integer not null check (disk_mb > 0),
      hourly_price bigint not null check (hourly_price >= 0),
      currency text not null default 'UZS',
      active boolean not null default true,
      created_at timestamptz not null default now()
    );

    create table runtimes (
      id text primary key,
      kind text not null check (kind in ('node', 'python', 'go', 'php', 'static')),
      version text not null,
      base_image text not null,
      build_command text,
      start_command text,
      created_at timestamptz not null default now(),
      unique (kind, version)
    );

    create table nodes (
      id text primary key,
      name text not null,
      region_id text not null references regions(id),
      labels jsonb not null default '[]',
      admin_status text not null default 'active' check (admin_status in ('active', 'draining', 'disabled')),
      liveness text not null default 'offline' check (liveness in ('online', 'suspect', 'offline')),
      degraded boolean not null default false,
      credential_hash text not null unique,
      facts jsonb not null default '{}',
      capacity_cpu_millicores integer not null default 0,
      capacity_memory_mb integer not null default 0,
      capacity_disk_mb integer not null default 0,
      max_containers integer not null default 100,
      usage jsonb not null default '{}',
      container_count integer not null default 0,
      agent_version text,
      last_heartbeat_at timestamptz,
      session_generation bigint not null default 0,
      desired_generation bigint not null default 0,
      applied_generation bigint not null default 0,
      revoked_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index nodes_region on nodes (region_id) where revoked_at is null;

    create table node_registration_tokens (
      id text primary key,
      token_hash text not null unique,
      region_id text not null references regions(id),
      labels jsonb not null default '[]',
      expires_at timestamptz not null,
      used_at timestamptz,
      node_id text references nodes(id),
      created_by text references users(id),
      created_at timestamptz not null default now()
    );

    create table node_metrics (
      node_id text not null references nodes(id) on delete cascade,
      at timestamptz not null,
      cpu_percent real not null,
      memory_used_mb integer not null,
      disk_used_mb integer not null,
      load1 real,
      net_rx_bytes bigint,
      net_tx_bytes bigint,
      container_count integer not null default 0,
      primary key (node_id, at)
    );

    create table projects (
      id text primary key,
      owner_id text not null references users(id),
      name text not null,
      created_at timestamptz not null default now(),
      deleted_at timestamptz
    );
    create unique index projects_owner_name on projects (owner_id, name) where deleted_at is null;

    create table apps (
      id text primary key,
      project_id text not null references projects(id),
      owner_id text not null references users(id),
      name text not null,
      region_id text not null references regions(id),
      plan_id text not null references plans(id),
      source jsonb not null,
      port integer not null default 8080 check (port between 1 and 65535),
      replicas integer not null default 1 check (replicas >= 0),
      health_check jsonb,
      status text not null default 'created',
      webhook_id text unique,
      webhook_secret_ciphertext text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz
    );
    create unique index apps_region_name on apps (region_id, name) where deleted_at is null;
    create index apps_owner on apps (owner_id);

    create table builds (
      id text primary key,
      app_id text not null references apps(id),
      node_id text references nodes(id),
      commit_sha text,
      status text not null default 'queued',
      image text,
      image_digest text,
      log text not null default '',
      error jsonb,
      started_at timestamptz,
      finished_at timestamptz,
      created_at timestamptz not null default now()
    );

    create table releases (
      id text primary key,
      app_id text not null references apps(id),
      number integer not null,
      image text not null,
      commit_sha text,
      config jsonb not null default '{}',
      created_at timestamptz not null default now(),
      unique (app_id, number)
    );

    create table deploys (
      id text primary key,
      app_id text not null references apps(id),
      status text not null default 'queued',
      ref text,
      commit_sha text,
      build_id text references builds(id),
      release_id text references releases(id),
      error jsonb,
      phases jsonb not null default '[]',
      created_by text references users(id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index deploys_app on deploys (app_id, created_at desc);

    create table allocations (
      id text primary key,
      app_id text not null references apps(id),
      release_id text references releases(id),
      node_id text not null references nodes(id),
      cpu_millicores integer not null,
      memory_mb integer not null,
      disk_mb integer not null,
      desired_status text not null default 'running',
      actual_status text not null default 'pending',
      upstream text,
      restarts integer not null default 0,
      started_at timestamptz,
      stopped_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index allocations_node on allocations (node_id) where stopped_at is null;
    create index allocations_app on allocations (app_id);

    create table tasks (
      id text primary key,
      node_id text not null references nodes(id),
      kind text not null,
      idempotency_key text not null unique,
      payload jsonb not null default '{}',
      state text not null default 'queued' check (state in
        ('queued', 'dispatched', 'acknowledged', 'running', 'succeeded', 'failed', 'timed-out', 'cancelled', 'dead')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      deadline timestamptz,
      last_error jsonb,
      result jsonb,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index tasks_pending on tasks (node_id, next_attempt_at) where state in ('queued', 'dispatched');

    create table env_vars (
      app_id text not null references apps(id) on delete cascade,
      key text not null,
      ciphertext text not null,
      secret boolean not null default false,
      updated_at timestamptz not null default now(),
      primary key (app_id, key)
    );

    create table domains (
      id text primary key,
      app_id text not null references apps(id),
      hostname text not null,
      status text not null default 'pending-verification',
      verification_value text not null,
      verified_at timestamptz,
      created_at timestamptz not null default now(),
      deleted_at timestamptz
    );
    create unique index domains_hostname on domains (hostname) where deleted_at is null;

    create table certificates (
      id text primary key,
      hostname text not null,
      status text not null default 'pending',
      certificate_pem text,
      private_key_ciphertext text,
      not_after timestamptz,
      last_error jsonb,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create unique index certificates_hostname on certificates (hostname);

    create table wallets (
      id text primary key,
      user_id text not null unique references users(id),
      currency text not null default 'UZS',
      balance bigint not null default 0,
      status text not null default 'active' check (status in ('active', 'low', 'suspended')),
      low_since timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );

    create table ledger_entries (
      id text primary key,
      wallet_id text not null references wallets(id),
      transaction_id text not null,
      account text not null,
      type text not null check (type in ('topup', 'charge', 'refund', 'adjustment')),
      amount bigint not null,
      balance_after bigint,
      idempotency_key text,
      app_id text references apps(id),
      period timestamptz,
      note text,
      created_at timestamptz not null default now()
    );
    create unique index ledger_entries_key on ledger_entries (idempotency_key, account) where idempotency_key is not null;
    create index ledger_entries_wallet on ledger_entries (wallet_id, created_at desc);

    create table billing_periods (
      hour timestamptz primary key,
      claimed_at timestamptz,
      claimed_by text,
      completed_at timestamptz
    );

    create table webhook_deliveries (
      id text primary key,
      app_id text not null references apps(id),
      provider text not null,
      delivery_id text not null,
      deploy_id text references deploys(id),
      received_at timestamptz not null default now(),
      unique (app_id, provider, delivery_id)
    );

    create table audit_log (
      id bigserial primary key,
      at timestamptz not null default now(),
      actor_type text not null check (actor_type in ('user', 'api-token', 'node', 'system', 'anonymous')),
      actor_id text,
      action text not null,
      target text,
      ip text,
      status integer,
      request_id text,
      details jsonb
    );
    create index audit_log_at on audit_log (at desc);
  `);
}
