// Where the node's proxy sends a hostname: the upstream URLs of the service its router names, read
// from the agent's Traefik dynamic config (no Traefik binary here; the benchmark calls the
// upstreams the route points at, which is what Traefik would do).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

interface DynamicConfig {
  http?: {
    routers?: Record<string, { rule?: string; service?: string }>;
    services?: Record<string, { loadBalancer?: { servers?: Array<{ url: string }> } }>;
  };
}

/**
 * A reader of the route's upstreams that parses the file again only when it was replaced (the
 * agent writes it atomically: a new inode each time). Polled every 50 ms while Karvon builds, a
 * parse per poll (with a fetch of the old replica, see `answering`) cost the benchmark process
 * about 10% of a core, taken from the build it times, which the raw path's build did not pay.
 */
export function routeWatcher(stateDir: string, hostname: string): () => Promise<string[]> {
  const file = path.join(stateDir, 'proxy', 'karvon.yml');
  let seen = '';
  let upstreams: string[] = [];
  return async () => {
    const st = await stat(file).catch(() => undefined);
    if (!st) return [];
    const version = `${st.ino}:${st.mtimeMs}:${st.size}`;
    if (version !== seen) {
      upstreams = await routeUpstreams(file, hostname);
      seen = version;
    }
    return upstreams;
  };
}

async function routeUpstreams(file: string, hostname: string): Promise<string[]> {
  let config: DynamicConfig;
  try {
    config = parseYaml(await readFile(file, 'utf8')) as DynamicConfig;
  } catch {
    return [];
  }
  const services = new Set(
    Object.values(config.http?.routers ?? {})
      .filter((r) => r.rule === `Host(\`${hostname}\`)` && r.service)
      .map((r) => r.service!),
  );
  return [...services].flatMap((s) => config.http?.services?.[s]?.loadBalancer?.servers?.map((x) => `${x.url}/`) ?? []);
}
