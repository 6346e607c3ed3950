// The central certificate service: orders certificates from the ACME CA for verified custom
// domains, renews them, and records the outcome. Every control plane may run it; a lease per
// certificate keeps two from ordering the same one. Decisions (is it due, may we order, how long to
// back off) are pure (renewal-policy.ts); this file is the one place that acts on them.
import * as acme from 'acme-client';
import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import type { SecretBox } from '../secrets/secret-box';
import { loadOrCreateAccount, saveAccountUrl } from './acme-account';
import { trustAcmeCa } from './acme-http';
import { challengeTypeFor, dns01RecordName, type Dns01Hook } from './dns01';
import { createHttp01Relay, type Http01Relay } from './http01-relay';
import { finishOrder, leaseDueCertificates, pastOrders, startOrder, storeFailure, storeIssued, type DueCertificate, type IssuedCertificate } from './certificate-store';
import { backoffMs, DEFAULT_BACKOFF, DEFAULT_ORDER_LIMITS, DEFAULT_RENEW_FRACTION, identifierSetKey, orderBudget, type Backoff, type OrderLimits } from './renewal-policy';

export interface CertificateServiceOptions {
  db: Db;
  secrets: SecretBox;
  logger: Logger;
  acme: { directoryUrl: string; email?: string | undefined; caFile?: string | undefined };
  /** for wildcard (system) names; without it such orders fail with a clear error */
  dns01?: Dns01Hook;
  /** the HTTP-01 answer path; default: install tasks to every online node of the region */
  http01?: Http01Relay;
  /** the clock every decision uses (tests move it) */
  now?: () => Date;
  /** renew when this fraction of the lifetime is left (default 1/3); read at every run */
  renewFraction?: () => number;
  backoff?: Backoff;
  limits?: OrderLimits;
  /** certificates per run; each order takes seconds */
  batch?: number;
}

export interface RunResult {
  issued: string[];
  failed: string[];
}

export interface CertificateService {
  /** orders what is due now; safe to call concurrently and from several control planes */
  runOnce(): Promise<RunResult>;
}

const LEASE_MS = 10 * 60_000;

export function createCertificateService(opts: CertificateServiceOptions): CertificateService {
  const { db, secrets, logger } = opts;
  const now = opts.now ?? (() => new Date());
  const relay = opts.http01 ?? createHttp01Relay({ db });
  trustAcmeCa(opts.acme.caFile);
  let client: acme.Client | undefined;

  async function acmeClient(): Promise<acme.Client> {
    if (client) return client;
    const account = await loadOrCreateAccount(db, secrets, opts.acme.directoryUrl);
    const c = new acme.Client({
      directoryUrl: opts.acme.directoryUrl,
      accountKey: account.accountKeyPem,
      ...(account.accountUrl ? { accountUrl: account.accountUrl } : {}),
      // Polling for a valid status: bounded so a stuck validation fails the order in about a minute.
      backoffAttempts: 10,
      backoffMin: 500,
      backoffMax: 10_000,
    });
    if (!account.accountUrl) {
      await c.createAccount({ termsOfServiceAgreed: true, ...(opts.acme.email ? { contact: [`mailto:${opts.acme.email}`] } : {}) });
      await saveAccountUrl(db, opts.acme.directoryUrl, c.getAccountUrl());
    }
    client = c;
    return c;
  }

  async function order(due: DueCertificate, hostnames: string[]): Promise<IssuedCertificate> {
    const type = challengeTypeFor(hostnames);
    if (type === 'dns-01' && !opts.dns01) throw new Error('wildcard names need a DNS-01 hook, and none is configured');
    const c = await acmeClient();
    const [key, csr] = await acme.crypto.createCsr({ commonName: hostnames[0]!, altNames: hostnames }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const chain = await c.auto({
      csr,
      termsOfServiceAgreed: true,
      // The control plane cannot see what the CA sees (split DNS, the nodes' port 80): the CA decides.
      skipChallengeVerification: true,
      challengePriority: [type],
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type === 'http-01') await relay.install(due.regionId, authz.identifier.value, challenge.token, keyAuthorization);
        else if (challenge.type === 'dns-01') await opts.dns01!.present(dns01RecordName(authz.identifier.value), keyAuthorization);
        else throw new Error(`unsupported challenge ${(challenge as { type: string }).type}`);
      },
      challengeRemoveFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type === 'http-01') await relay.remove(due.regionId, authz.identifier.value, challenge.token, keyAuthorization);
        else if (challenge.type === 'dns-01') await opts.dns01!.cleanup(dns01RecordName(authz.identifier.value), keyAuthorization);
      },
    });
    const info = acme.crypto.readCertificateInfo(chain);
    return { certificatePem: chain, privateKeyPem: key.toString('utf8'), notBefore: info.notBefore, notAfter: info.notAfter };
  }

  async function handle(due: DueCertificate, result: RunResult): Promise<void> {
    const hostnames = [due.hostname];
    const identifiers = identifierSetKey(hostnames);
    const at = now();
    const budget = orderBudget(await pastOrders(db, identifiers, at), at, opts.limits ?? DEFAULT_ORDER_LIMITS);
    if (!budget.allowed) {
      logger.warn({ hostname: due.hostname, retryAt: budget.retryAt, reason: budget.reason }, 'certificate order held back by the CA limits');
      await storeFailure(db, due, { code: 'RATE_LIMITED', message: `held back to stay inside the CA's limits: ${budget.reason}` }, budget.retryAt, at, false);
      result.failed.push(due.hostname);
      return;
    }
    const orderId = await startOrder(db, identifiers, at);
    try {
      const cert = await order(due, hostnames);
      await finishOrder(db, orderId, 'issued', now());
      const kept = await storeIssued(db, secrets, due, cert, now());
      logger.info({ hostname: due.hostname, notAfter: cert.notAfter, renewal: due.status === 'issued', kept }, 'certificate issued');
      result.issued.push(due.hostname);
    } catch (e) {
      const failedAt = now();
      await finishOrder(db, orderId, 'failed', failedAt);
      const message = describe(e);
      const next = new Date(failedAt.getTime() + backoffMs(due.attempts + 1, opts.backoff ?? DEFAULT_BACKOFF));
      logger.warn({ hostname: due.hostname, err: message, attempts: due.attempts + 1, nextAttemptAt: next }, 'certificate order failed');
      await storeFailure(db, due, { code: 'ACME_ORDER_FAILED', message }, next, failedAt);
      result.failed.push(due.hostname);
    }
  }

  return {
    async runOnce() {
      const result: RunResult = { issued: [], failed: [] };
      const fraction = opts.renewFraction?.() ?? DEFAULT_RENEW_FRACTION;
      const due = await leaseDueCertificates(db, now(), fraction, opts.batch ?? 5, LEASE_MS);
      for (const d of due) await handle(d, result);
      return result;
    },
  };
}

/** A short, customer-safe reason: the CA's problem detail when there is one. */
function describe(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s+/g, ' ').slice(0, 500);
}
