// Where the node's proxy sends a hostname: the upstream URLs of the service its router names, read
// from the agent's Traefik dynamic config (no Traefik binary here; the benchmark calls the
// upstreams the route points at, which is what Traefik would do).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

interface DynamicConfig {
  http?: {
    routers?: Record<string, { rule?: string; service?: string }>;
    services?: Record<string, { loadBalancer?: { servers?: Array<{ url: string }> } }>;
  };
}

export async function routeUpstreams(stateDir: string, hostname: string): Promise<string[]> {
  let config: DynamicConfig;
  try {
    config = parseYaml(await readFile(path.join(stateDir, 'proxy', 'karvon.yml'), 'utf8')) as DynamicConfig;
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
