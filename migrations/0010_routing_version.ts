import type { Knex } from 'knex';

// Two read paths that run all the time. (1) Routes and certificates are region-wide and rebuilt
// into every node's desired state (routing/region-routes.ts). A control plane keeps the routing it
// read in memory, keyed by this one installation-wide version, and reads the version in the same
// statement as the nodes it builds states for. So that the memory is never stale, the version is bumped by triggers in the same
// transaction as every change a route or certificate depends on, whoever makes it (any control
// plane, any code path): an app becoming routable or not, renamed or moved; a replica becoming a
// healthy upstream or not, or its address changing; a custom domain verified or removed; a
// certificate issued, renewed or replaced. The bump is a deferred constraint trigger: it runs at
// commit, once per transaction (the row remembers the transaction that last bumped it), so the
// version row is locked only for the commit itself and after every other lock the transaction
// takes (no new lock-order cycle). Expiry needs no bump: a reader drops what it holds when its
// first shipped certificate's not_after passes. `epoch` tells a recreated row from the old one.
// (2) Evacuation's pass starts from the nodes that are leaving: a partial index holds just those.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table routing_version (
      id boolean primary key default true check (id),
      epoch text not null default md5(random()::text || clock_timestamp()::text),
      version bigint not null default 0,
      bumped_by bigint
    );
    insert into routing_version default values;

    create function bump_routing_version() returns trigger language plpgsql as $$
    begin
      update routing_version set version = version + 1, bumped_by = txid_current()
      where bumped_by is distinct from txid_current();
      return null;
    end $$;

    create constraint trigger routing_apps_insert after insert on apps deferrable initially deferred for each row
      when (new.deleted_at is null and new.status <> 'deleting' and new.current_release_id is not null)
      execute function bump_routing_version();
    create constraint trigger routing_apps_update after update on apps deferrable initially deferred for each row
      when ((old.deleted_at is null and old.status is distinct from 'deleting' and old.current_release_id is not null)
              is distinct from (new.deleted_at is null and new.status is distinct from 'deleting' and new.current_release_id is not null)
         or ((new.deleted_at is null and new.status is distinct from 'deleting' and new.current_release_id is not null)
              and (old.name, old.region_id) is distinct from (new.name, new.region_id)))
      execute function bump_routing_version();
    create constraint trigger routing_apps_delete after delete on apps deferrable initially deferred for each row
      execute function bump_routing_version();

    create constraint trigger routing_allocations_insert after insert on allocations deferrable initially deferred for each row
      when (new.stopped_at is null and new.desired_status = 'running' and new.actual_status = 'healthy' and new.upstream is not null)
      execute function bump_routing_version();
    create constraint trigger routing_allocations_update after update on allocations deferrable initially deferred for each row
      when (((old.stopped_at is null and old.desired_status = 'running' and old.actual_status = 'healthy' and old.upstream is not null) is true)
              is distinct from ((new.stopped_at is null and new.desired_status = 'running' and new.actual_status = 'healthy' and new.upstream is not null) is true)
         or (((new.stopped_at is null and new.desired_status = 'running' and new.actual_status = 'healthy' and new.upstream is not null) is true)
              and (old.upstream, old.node_id, old.app_id) is distinct from (new.upstream, new.node_id, new.app_id)))
      execute function bump_routing_version();
    create constraint trigger routing_allocations_delete after delete on allocations deferrable initially deferred for each row
      when (old.stopped_at is null and old.desired_status = 'running' and old.actual_status = 'healthy' and old.upstream is not null)
      execute function bump_routing_version();

    create constraint trigger routing_domains_insert after insert on domains deferrable initially deferred for each row
      when (new.deleted_at is null and new.status = 'verified')
      execute function bump_routing_version();
    create constraint trigger routing_domains_update after update on domains deferrable initially deferred for each row
      when ((old.deleted_at is null and old.status = 'verified') is distinct from (new.deleted_at is null and new.status = 'verified')
         or ((new.deleted_at is null and new.status = 'verified') and (old.hostname, old.app_id) is distinct from (new.hostname, new.app_id)))
      execute function bump_routing_version();
    create constraint trigger routing_domains_delete after delete on domains deferrable initially deferred for each row
      when (old.deleted_at is null and old.status = 'verified')
      execute function bump_routing_version();

    create constraint trigger routing_certificates_insert after insert on certificates deferrable initially deferred for each row
      when (new.certificate_pem is not null and new.private_key_ciphertext is not null)
      execute function bump_routing_version();
    create constraint trigger routing_certificates_update after update on certificates deferrable initially deferred for each row
      when (((old.certificate_pem is not null and old.private_key_ciphertext is not null)
              or (new.certificate_pem is not null and new.private_key_ciphertext is not null))
         and (old.id, old.hostname, old.certificate_pem, old.private_key_ciphertext, old.not_after)
              is distinct from (new.id, new.hostname, new.certificate_pem, new.private_key_ciphertext, new.not_after))
      execute function bump_routing_version();
    create constraint trigger routing_certificates_delete after delete on certificates deferrable initially deferred for each row
      when (old.certificate_pem is not null and old.private_key_ciphertext is not null)
      execute function bump_routing_version();

    -- Evacuation (allocations/evacuation.ts) starts from the nodes that are leaving, every pass:
    -- a handful of rows, not a scan of every node (liveness changes rarely; heartbeats and
    -- generation bumps do not touch these columns, so they stay HOT updates).
    create index nodes_leaving on nodes (id) where admin_status = 'draining' or liveness = 'offline' or revoked_at is not null;

    -- TRUNCATE fires no row trigger; it bumps at once (it holds an exclusive lock anyway).
    create trigger routing_truncate after truncate on apps for each statement execute function bump_routing_version();
    create trigger routing_truncate after truncate on allocations for each statement execute function bump_routing_version();
    create trigger routing_truncate after truncate on domains for each statement execute function bump_routing_version();
    create trigger routing_truncate after truncate on certificates for each statement execute function bump_routing_version();
  `);
}
