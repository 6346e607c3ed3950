// Names shared by the dynamic config (renderer), the static config and the writer. The static
// config the installer writes and the dynamic config the agent writes must agree on them.
import { createHash } from 'node:crypto';

/** Traefik entrypoints: plain HTTP (redirects, HTTP-01) and HTTPS. */
export const ENTRYPOINTS = Object.freeze({ web: 'web', websecure: 'websecure' });

export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/**
 * Above every Host() router: Traefik's default priority is the rule's length, and a Host() rule
 * for a 253-character name is about 260, so a challenge request for any hostname reaches the agent.
 */
export const CHALLENGE_ROUTER_PRIORITY = 100_000;

/** The one dynamic-config file in the proxy dir. YAML by extension; see render-file.ts. */
export const DYNAMIC_CONFIG_FILE = 'karvon.yml';
/** Certificate and key files, under the proxy dir. */
export const CERTIFICATES_DIR = 'certs';

export const REDIRECT_MIDDLEWARE = 'karvon-redirect-https';
export const CHALLENGE_ROUTER = 'karvon-acme-http-01';
/** The agent's own loopback server: HTTP-01 answers, and 503 for routes with no upstream. */
export const AGENT_SERVICE = 'karvon-agent';

const shortHash = (s: string, n = 8) => createHash('sha256').update(s).digest('hex').slice(0, n);

/** Router names per hostname; a checked hostname has no `_`, so `.` → `_` cannot collide. */
export const routerName = (hostname: string, entrypoint: string) => `host-${hostname.replaceAll('.', '_')}-${entrypoint}`;

/**
 * Service names per app. Ids may hold `.` and `:`; those become `-`, and a hash of the exact id keeps
 * `a.b` and `a:b` apart. (`@` would be read as a provider suffix, so it never appears.)
 */
export const serviceName = (appId: string) => `app-${appId.replace(/[^A-Za-z0-9_-]/g, '-')}-${shortHash(appId)}`;

/**
 * Certificate files are named for the certificate id and a hash of their content: a renewed
 * certificate gets new paths, so the dynamic config itself changes and Traefik reloads it, and a
 * half-replaced pair can never be read (the old pair stays until the new config is in place).
 */
export function certificateBaseName(id: string, certificatePem: string, privateKeyPem: string): string {
  return `${id.replace(/[^A-Za-z0-9_-]/g, '-')}-${shortHash(`${id}\n${certificatePem}\n${privateKeyPem}`, 16)}`;
}
