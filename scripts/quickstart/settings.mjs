// The few settings the quickstart itself needs, read the way the control plane's config.ts reads
// them (same names, same defaults); the control plane still validates all of them itself.
import { homedir, userInfo } from 'node:os';
import path from 'node:path';

/** @param {Record<string, string | undefined>} env */
export function quickstartSettings(env) {
  const value = (/** @type {string} */ name) => (env[name]?.trim() ? env[name].trim() : undefined);
  const port = Number(value('KARVON_PORT') ?? 8080);
  const host = value('KARVON_HOST') ?? '0.0.0.0';
  // As root the embedded PostgreSQL runs as `postgres`, which cannot enter root's home (config.ts).
  const dataDir = path.resolve(value('KARVON_DATA_DIR') ?? (userInfo().uid === 0 ? '/var/lib/karvon' : path.join(homedir(), '.karvon')));
  const callHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    port,
    host,
    dataDir,
    agentStateDir: path.join(dataDir, 'agent'),
    embeddedPostgresPort: value('DATABASE_URL') ? undefined : Number(value('KARVON_EMBEDDED_PG_PORT') ?? 5433),
    /** what the quickstart and the local agent call */
    localUrl: `http://${callHost}:${port}`,
    /** what people are told to open */
    publicUrl: (value('KARVON_PUBLIC_URL') ?? `http://localhost:${port}`).replace(/\/+$/, ''),
  };
}
