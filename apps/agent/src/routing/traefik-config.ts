// The part of Traefik v3's dynamic configuration the agent writes, as types. The official schema
// (../shared/schemas/traefik-v3-file-provider.json) is the judge; the tests validate every
// rendered example against it.

export interface TraefikRouter {
  entryPoints: string[];
  rule: string;
  service: string;
  priority?: number;
  middlewares?: string[];
  /** `{}`: TLS with the certificate matching the SNI from `tls.certificates` (or Traefik's default). */
  tls?: Record<string, never>;
}

export interface TraefikLoadBalancer {
  servers: Array<{ url: string }>;
  healthCheck?: { path: string; interval: string; timeout: string };
  passHostHeader?: boolean;
}

export type TraefikService =
  | { loadBalancer: TraefikLoadBalancer }
  | { failover: { service: string; fallback: string } };

export interface TraefikDynamicConfig {
  http: {
    routers: Record<string, TraefikRouter>;
    services: Record<string, TraefikService>;
    middlewares: Record<string, { redirectScheme: { scheme: 'https'; permanent: boolean } }>;
  };
  tls?: { certificates: Array<{ certFile: string; keyFile: string }> };
}
