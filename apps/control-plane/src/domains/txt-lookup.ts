// The ownership proof for a custom domain is a TXT record the customer publishes. It is looked up
// with the resolver the operator configures (KARVON_DNS_RESOLVER, `ip[:port]`), else the system's.
import { Resolver } from 'node:dns/promises';
import { DomainError } from '../domain/errors';

/** The TXT strings at `name` (chunks of one record joined); [] when the name or record is absent. */
export type TxtLookup = (name: string) => Promise<string[]>;

const ABSENT = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/** Throws at start when `server` is not an `ip[:port]` (a name cannot be a resolver address). */
export function createTxtLookup(server: string | undefined, timeoutMs = 3000): TxtLookup {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (server) {
    try {
      resolver.setServers([server]);
    } catch {
      throw new Error(`KARVON_DNS_RESOLVER ${server}: expected an IP address with an optional port (ip[:port], [ipv6]:port)`);
    }
  }
  return async (name) => {
    try {
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'UNKNOWN';
      if (ABSENT.has(code)) return [];
      throw new DomainError('UNAVAILABLE', `DNS lookup of ${name} failed (${code}); try again`, { reason: 'dns-error', dnsCode: code });
    }
  };
}
