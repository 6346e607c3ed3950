import type { Knex } from 'knex';

// The certificate service (apps/control-plane/src/certificates/): one ACME account per installation
// and directory, its key sealed; per certificate the validity window, the retry schedule after a
// failure and a lease so only one control plane orders it at a time; and a log of orders, counted
// per identifier set to stay inside the CA's limits.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table acme_accounts (
      directory_url text primary key,
      account_key_ciphertext text not null,
      account_url text,
      created_at timestamptz not null default now()
    );

    alter table certificates
      add column not_before timestamptz,
      add column issued_at timestamptz,
      add column attempts integer not null default 0,
      add column next_attempt_at timestamptz default now(),
      add column lease_until timestamptz;
    create index certificates_due on certificates (next_attempt_at);

    create table acme_orders (
      id text primary key,
      identifiers text not null,
      outcome text not null default 'pending' check (outcome in ('pending', 'issued', 'failed')),
      created_at timestamptz not null default now(),
      finished_at timestamptz
    );
    create index acme_orders_identifiers on acme_orders (identifiers, created_at);

    create index domains_app on domains (app_id) where deleted_at is null;
  `);
}
