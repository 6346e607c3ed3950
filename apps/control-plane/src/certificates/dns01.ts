// DNS-01 is how wildcard names (the system domain `*.<region>.<apps domain>`) get certificates:
// the operator's DNS provider publishes `_acme-challenge.<name>` TXT records. No provider is built
// in; an installation that wants wildcards passes an implementation to the certificate service.

export interface Dns01Hook {
  /** Publish the TXT `value` at `name` (`_acme-challenge.<domain>`); resolve once the CA can see it. */
  present(name: string, value: string): Promise<void>;
  /** Remove what `present` published; errors are logged, never fatal. */
  cleanup(name: string, value: string): Promise<void>;
}

export const dns01RecordName = (identifier: string) => `_acme-challenge.${identifier.replace(/^\*\./, '')}`;

/** Wildcards can only be proven with DNS-01; everything else uses HTTP-01 through the nodes. */
export function challengeTypeFor(hostnames: readonly string[]): 'http-01' | 'dns-01' {
  return hostnames.some((h) => h.startsWith('*.')) ? 'dns-01' : 'http-01';
}
