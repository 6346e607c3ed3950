// acme-client talks HTTPS through its own axios instance. An operator running a private ACME server
// (Pebble in tests, step-ca in a lab) names its CA in KARVON_ACME_CA_FILE; it is trusted in
// addition to the public roots, for the ACME directory only.
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';

export function trustAcmeCa(caFile: string | undefined): void {
  if (!caFile) return;
  const extra = readFileSync(caFile, 'utf8');
  if (!extra.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`KARVON_ACME_CA_FILE ${caFile}: no PEM certificate in it`);
  acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, extra], keepAlive: false });
}
