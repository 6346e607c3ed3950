// Custom domains of an app. A domain starts `pending-verification` with a random TXT value; only
// once the customer has published it (checked through TxtLookup) is it `verified`, and only then
// does it get a route (region-wide desired state) and a certificate order. Nothing routes or
// orders for a pending domain.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '../db/connect';
import { inTransaction } from '../db/in-transaction';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import { conflictOnUnique } from '../catalog/unique-violation';
import { bumpRegionNodes } from '../routing/region-generation';
import { parseCustomHostname, type HostnamePolicy } from './hostname';
import type { TxtLookup } from './txt-lookup';

export const MAX_DOMAINS_PER_APP = 50;
export const VERIFICATION_PREFIX = '_karvon-challenge';

export interface DomainRow {
  id: string;
  app_id: string;
  hostname: string;
  status: 'pending-verification' | 'verified';
  verification_value: string;
  verified_at: Date | null;
  created_at: Date;
  deleted_at: Date | null;
}

interface CertStatusRow {
  status: 'pending' | 'issued' | 'failed';
  not_after: Date | null;
  last_error: { code: string; message: string } | null;
  attempts: number;
  next_attempt_at: Date | null;
}

export interface TlsView {
  status: 'pending' | 'issued' | 'failed';
  notAfter?: string;
  /** the last failure (also while an issued certificate is still served and its renewal fails) */
  error?: string;
  attempts?: number;
  nextAttemptAt?: string;
}

export interface DomainView {
  id: string;
  appId: string;
  hostname: string;
  status: DomainRow['status'];
  verification: { type: 'dns-txt'; name: string; value: string };
  verifiedAt: string | null;
  createdAt: string;
  tls?: TlsView;
}

export const verificationName = (hostname: string) => `${VERIFICATION_PREFIX}.${hostname}`;

export function tlsView(c: CertStatusRow | undefined): TlsView {
  if (!c) return { status: 'pending' };
  return {
    status: c.status,
    ...(c.not_after ? { notAfter: c.not_after.toISOString() } : {}),
    ...(c.last_error ? { error: c.last_error.message, attempts: c.attempts } : {}),
    ...(c.last_error && c.next_attempt_at ? { nextAttemptAt: c.next_attempt_at.toISOString() } : {}),
  };
}

export function domainView(d: DomainRow, cert: CertStatusRow | undefined): DomainView {
  return {
    id: d.id,
    appId: d.app_id,
    hostname: d.hostname,
    status: d.status,
    verification: { type: 'dns-txt', name: verificationName(d.hostname), value: d.verification_value },
    verifiedAt: d.verified_at?.toISOString() ?? null,
    createdAt: d.created_at.toISOString(),
    ...(d.status === 'verified' ? { tls: tlsView(cert) } : {}),
  };
}

async function certificatesFor(db: Db, hostnames: readonly string[]): Promise<Map<string, CertStatusRow>> {
  if (hostnames.length === 0) return new Map();
  const rows = await db('certificates')
    .whereIn('hostname', [...hostnames])
    .select<Array<CertStatusRow & { hostname: string }>>('hostname', 'status', 'not_after', 'last_error', 'attempts', 'next_attempt_at');
  return new Map(rows.map((r) => [r.hostname, r]));
}

export async function loadDomainView(db: Db, domainId: string): Promise<DomainView> {
  const d = await db('domains').where({ id: domainId }).first<DomainRow | undefined>();
  if (!d) throw new DomainError('NOT_FOUND', 'domain not found');
  return domainView(d, (await certificatesFor(db, [d.hostname])).get(d.hostname));
}

export async function listDomains(db: Db, appId: string): Promise<DomainView[]> {
  const rows = await db('domains').where({ app_id: appId }).whereNull('deleted_at').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).select<DomainRow[]>('*');
  const certs = await certificatesFor(db, rows.map((r) => r.hostname));
  return rows.map((r) => domainView(r, certs.get(r.hostname)));
}

/** Parses and records a domain for the app; 400 naming `hostname`, 409 when any app holds it. */
export async function addDomain(db: Db, app: { id: string; status: string }, hostnameInput: unknown, policy: HostnamePolicy): Promise<DomainView> {
  const parsed = parseCustomHostname(hostnameInput, policy);
  if (!parsed.ok) throw DomainError.validation([{ path: 'hostname', message: parsed.reason }]);
  if (app.status === 'deleting' || app.status === 'deleted') throw new DomainError('CONFLICT', 'the app is being deleted');
  const count = await db('domains').where({ app_id: app.id }).whereNull('deleted_at').count<Array<{ count: string }>>({ count: '*' });
  if (Number(count[0]?.count ?? 0) >= MAX_DOMAINS_PER_APP) throw new DomainError('QUOTA_EXCEEDED', `at most ${MAX_DOMAINS_PER_APP} domains per app`);
  const id = newId('dom');
  await conflictOnUnique(
    db('domains').insert({ id, app_id: app.id, hostname: parsed.hostname, verification_value: randomBytes(24).toString('base64url') }),
    { domains_hostname: 'hostname' },
    'domain',
  );
  return loadDomainView(db, id);
}

/**
 * Checks the TXT record; on a match the domain becomes verified, a certificate is requested and
 * the region's nodes get the new route, in one transaction. Verifying a verified domain is a no-op.
 */
export async function verifyDomain(db: Db, domain: DomainRow & { region_id: string }, lookup: TxtLookup): Promise<{ view: DomainView; verifiedNow: boolean }> {
  if (domain.status === 'verified') return { view: await loadDomainView(db, domain.id), verifiedNow: false };
  const name = verificationName(domain.hostname);
  const values = await lookup(name);
  if (!values.includes(domain.verification_value)) {
    throw new DomainError(
      'CONFLICT',
      values.length === 0 ? `no TXT record at ${name} yet` : `the TXT record at ${name} does not hold the expected value`,
      { reason: values.length === 0 ? 'txt-not-found' : 'txt-mismatch', name, expected: domain.verification_value },
    );
  }
  const verifiedNow = await db.transaction(async (trx) => {
    const changed = await trx('domains').where({ id: domain.id, status: 'pending-verification' }).whereNull('deleted_at').update({ status: 'verified', verified_at: trx.fn.now() });
    if (changed === 0) return false;
    await requestCertificate(trx, domain.hostname);
    await bumpRegionNodes(trx, domain.region_id);
    return true;
  });
  return { view: await loadDomainView(db, domain.id), verifiedNow };
}

/** A certificate row due now; a leftover row for the hostname starts over. */
async function requestCertificate(trx: Knex.Transaction, hostname: string): Promise<void> {
  await trx.raw(
    `insert into certificates (id, hostname, status, next_attempt_at) values (?, ?, 'pending', now())
     on conflict (hostname) do update set status = 'pending', certificate_pem = null, private_key_ciphertext = null,
       not_after = null, not_before = null, issued_at = null, last_error = null, attempts = 0, next_attempt_at = now(), updated_at = now()`,
    [newId('cert'), hostname],
  );
}

/** Removes the domain, its certificate and (if it was routed) its route from the region's nodes. */
export async function removeDomain(db: Db | Knex.Transaction, domain: DomainRow & { region_id: string }): Promise<void> {
  const run = async (trx: Knex.Transaction) => {
    const changed = await trx('domains').where({ id: domain.id }).whereNull('deleted_at').update({ deleted_at: trx.fn.now() });
    if (changed === 0) return;
    await trx('certificates').where({ hostname: domain.hostname }).delete();
    if (domain.status === 'verified') await bumpRegionNodes(trx, domain.region_id);
  };
  await inTransaction(db, run);
}

/**
 * For app deletion: releases every domain of the app (so the hostnames can be claimed again) and
 * drops their certificates. Run it inside the deletion's transaction.
 */
export async function releaseAppDomains(trx: Knex.Transaction, appId: string): Promise<number> {
  const gone = await trx('domains').where({ app_id: appId }).whereNull('deleted_at').update({ deleted_at: trx.fn.now() }).returning<Array<{ hostname: string }>>('hostname');
  if (gone.length > 0) await trx('certificates').whereIn('hostname', gone.map((g) => g.hostname)).delete();
  return gone.length;
}

/**
 * For the desired-state builder: app id → its VERIFIED custom hostnames, for the apps of these
 * regions (pending domains are never routed). Feed it to routing/node-routing.ts.
 */
export async function verifiedHostnamesByApp(db: Db | Knex.Transaction, regionIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (regionIds.length === 0) return out;
  const rows = await db('domains as d')
    .join('apps as a', 'a.id', 'd.app_id')
    .whereIn('a.region_id', [...regionIds])
    .whereNull('a.deleted_at')
    .whereNull('d.deleted_at')
    .where('d.status', 'verified')
    .orderBy('d.hostname')
    .select<Array<{ app_id: string; hostname: string }>>('d.app_id', 'd.hostname');
  for (const r of rows) out.set(r.app_id, [...(out.get(r.app_id) ?? []), r.hostname]);
  return out;
}
