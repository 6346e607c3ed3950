// Certificates in PostgreSQL: the certificate chain in clear, the private key sealed with the
// secret box (bound to its hostname), the retry schedule, a lease so only one control plane orders
// a certificate at a time, and the order log the CA's limits are counted from.
import type { Certificate } from '@karvon/protocol';
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import type { SecretBox } from '../secrets/secret-box';
import { bumpRegionNodes } from '../routing/region-generation';
import type { PastOrder } from './renewal-policy';

export const certificateKeyAad = (hostname: string) => `certificate-key:${hostname}`;

export interface DueCertificate {
  id: string;
  hostname: string;
  regionId: string;
  status: 'pending' | 'issued' | 'failed';
  notBefore: Date | null;
  notAfter: Date | null;
  attempts: number;
}

/**
 * Leases up to `limit` certificates that are due at `now`: never issued (or failed) and past their
 * next attempt, or issued and inside the renewal window (`fractionLeft` of the lifetime left) —
 * unless a failed renewal set a later next attempt (backoff wins). Only verified, live domains.
 */
export async function leaseDueCertificates(db: Db, now: Date, fractionLeft: number, limit: number, leaseMs: number): Promise<DueCertificate[]> {
  const res = await db.raw<{ rows: Array<{ id: string; hostname: string; region_id: string; status: DueCertificate['status']; not_before: Date | null; not_after: Date | null; attempts: number }> }>(
    `with due as (
       select c.id, a.region_id from certificates c
       join domains d on d.hostname = c.hostname and d.deleted_at is null and d.status = 'verified'
       join apps a on a.id = d.app_id and a.deleted_at is null
       where (c.lease_until is null or c.lease_until < ?::timestamptz)
         and case when c.next_attempt_at is not null then c.next_attempt_at <= ?::timestamptz
                  else c.status = 'issued' and c.not_after - (c.not_after - coalesce(c.not_before, c.not_after)) * ?::float8 <= ?::timestamptz end
       order by c.next_attempt_at nulls last, c.id
       limit ?
       for update of c skip locked)
     update certificates c set lease_until = ?::timestamptz
     from due where c.id = due.id
     returning c.id, c.hostname, due.region_id, c.status, c.not_before, c.not_after, c.attempts`,
    [now.toISOString(), now.toISOString(), fractionLeft, now.toISOString(), limit, new Date(now.getTime() + leaseMs).toISOString()],
  );
  return res.rows.map((r) => ({ id: r.id, hostname: r.hostname, regionId: r.region_id, status: r.status, notBefore: r.not_before, notAfter: r.not_after, attempts: r.attempts }));
}

export interface IssuedCertificate {
  certificatePem: string;
  privateKeyPem: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Stores a new certificate and bumps the region's nodes so they ship it, in one transaction.
 * False when the row is gone (the domain was removed while the order ran): the certificate is dropped.
 */
export async function storeIssued(db: Db, secrets: SecretBox, due: DueCertificate, cert: IssuedCertificate, now: Date): Promise<boolean> {
  return db.transaction(async (trx) => {
    const changed = await trx('certificates')
      .where({ id: due.id, hostname: due.hostname })
      .update({
        status: 'issued',
        certificate_pem: cert.certificatePem,
        private_key_ciphertext: secrets.seal(cert.privateKeyPem, certificateKeyAad(due.hostname)),
        not_before: cert.notBefore,
        not_after: cert.notAfter,
        issued_at: now,
        attempts: 0,
        last_error: null,
        next_attempt_at: null,
        lease_until: null,
        updated_at: trx.fn.now(),
      });
    if (changed === 0) return false;
    await bumpRegionNodes(trx, due.regionId);
    return true;
  });
}

/**
 * Records a failure and when to try again. An issued certificate that is still valid stays
 * `issued` (it is still served) with the error visible; otherwise the status is `failed`.
 */
export async function storeFailure(db: Db, due: DueCertificate, error: { code: string; message: string }, nextAttemptAt: Date, now: Date, countsAsAttempt = true): Promise<void> {
  await db.raw(
    `update certificates set
       status = case when status = 'issued' and not_after > ?::timestamptz then 'issued' else 'failed' end,
       last_error = ?::jsonb, attempts = attempts + ?, next_attempt_at = ?::timestamptz, lease_until = null, updated_at = now()
     where id = ? and hostname = ?`,
    [now.toISOString(), JSON.stringify(error), countsAsAttempt ? 1 : 0, nextAttemptAt.toISOString(), due.id, due.hostname],
  );
}

export async function pastOrders(db: Db, identifiers: string, now: Date): Promise<PastOrder[]> {
  const rows = await db('acme_orders')
    .where({ identifiers })
    .where('created_at', '>', new Date(now.getTime() - 7 * 86_400_000))
    .select<Array<{ outcome: PastOrder['outcome']; created_at: Date }>>('outcome', 'created_at');
  return rows.map((r) => ({ outcome: r.outcome, createdAt: r.created_at }));
}

export async function startOrder(db: Db, identifiers: string, now: Date): Promise<string> {
  const id = newId('ord');
  await db('acme_orders').insert({ id, identifiers, created_at: now });
  return id;
}

export async function finishOrder(db: Db, id: string, outcome: 'issued' | 'failed', now: Date): Promise<void> {
  await db('acme_orders').where({ id }).update({ outcome, finished_at: now });
}

/**
 * The issued, unexpired certificates for these hostnames, keys opened, in the desired-state shape.
 * For the desired-state builder (with routing/node-routing.ts).
 */
export async function loadIssuedCertificates(db: Db, secrets: SecretBox, hostnames: readonly string[], now = new Date()): Promise<Certificate[]> {
  if (hostnames.length === 0) return [];
  const rows = await db('certificates')
    .whereIn('hostname', [...hostnames])
    .whereNotNull('certificate_pem')
    .whereNotNull('private_key_ciphertext')
    .where('not_after', '>', now)
    .orderBy('hostname')
    .select<IssuedCertificateRow[]>('id', 'hostname', 'certificate_pem', 'private_key_ciphertext', 'not_after');
  return rows.map((r) => openIssuedCertificate(secrets, r));
}

/** An issued certificate row as read for routing (routing/region-routes.ts reads them in its own statement). */
export interface IssuedCertificateRow {
  id: string;
  hostname: string;
  certificate_pem: string;
  private_key_ciphertext: string;
  /** a Date from knex, an ISO string from json_build_object */
  not_after: Date | string;
}

/** The protocol's certificate, its key opened. */
export function openIssuedCertificate(secrets: SecretBox, r: IssuedCertificateRow): Certificate {
  return {
    id: r.id,
    hostnames: [r.hostname],
    certificatePem: r.certificate_pem,
    privateKeyPem: secrets.open(r.private_key_ciphertext, certificateKeyAad(r.hostname)),
    notAfter: new Date(r.not_after).toISOString(),
  };
}
