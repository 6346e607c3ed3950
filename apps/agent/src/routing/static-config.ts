// Traefik's static configuration for a Karvon node, as data and as file text (the installer
// writes it to e.g. /etc/traefik/traefik.yml). Only the file provider is enabled: no Docker
// provider, so no image label can ever add a route (SECURITY.md rule 7).
import { serializeTraefikConfig } from './render-file';
import { ENTRYPOINTS } from './traefik-names';

export interface TraefikStaticOptions {
  /** The agent's proxy dir (KARVON_PROXY_DIR), which Traefik watches. */
  proxyDir: string;
  /** `[host]:port`; defaults `:80` and `:443`. */
  webAddress?: string;
  websecureAddress?: string;
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

export function traefikStaticConfig(o: TraefikStaticOptions) {
  return {
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    log: { level: o.logLevel ?? 'INFO' },
    entryPoints: {
      [ENTRYPOINTS.web]: { address: o.webAddress ?? ':80' },
      [ENTRYPOINTS.websecure]: { address: o.websecureAddress ?? ':443' },
    },
    // A directory, not one file: the file provider then also sees certificate files change.
    // It reads only *.yml/*.yaml/*.toml there, i.e. the agent's karvon.yml.
    providers: { file: { directory: o.proxyDir, watch: true } },
  };
}

/** The static config as YAML file text (JSON, which YAML reads; see render-file.ts). */
export const renderTraefikStaticConfig = (o: TraefikStaticOptions): string => serializeTraefikConfig(traefikStaticConfig(o));
