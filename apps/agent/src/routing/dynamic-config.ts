// Pure: (routes, certificates, local health checks) → the complete Traefik dynamic configuration
// for this node, as a snapshot (never a patch), plus the certificate files it names and what was
// refused. Same input, same output, byte for byte once serialized (everything is sorted), so an
// unchanged desired state never makes Traefik reload.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { certificateSchema, routeSchema, type Certificate, type DesiredAllocation, type Route } from '@karvon/protocol';
import { checkHostname, hostRule, type HostnameRefusal } from './hostname';
import type { TraefikDynamicConfig, TraefikLoadBalancer, TraefikRouter, TraefikService } from './traefik-config';
import {
  ACME_CHALLENGE_PREFIX,
  AGENT_SERVICE,
  CHALLENGE_ROUTER,
  CHALLENGE_ROUTER_PRIORITY,
  ENTRYPOINTS,
  REDIRECT_MIDDLEWARE,
  certificateBaseName,
  routerName,
  serviceName,
} from './traefik-names';

export interface RoutingInput {
  routes: readonly Route[];
  certificates: readonly Certificate[];
  /** This node's desired allocations: where the health path of the local replicas comes from. */
  allocations: readonly Pick<DesiredAllocation, 'appId' | 'healthCheck' | 'desiredStatus'>[];
  /** `127.0.0.1:<port>` of the agent's own responder (HTTP-01 answers, 503 for empty routes). */
  agentUpstream: string;
  /** Absolute directory the certificate files are written to (`<proxy dir>/certs`). */
  certificatesDir: string;
}

export type RouteRefusal = HostnameRefusal | 'invalid-route' | 'duplicate-hostname';
export type CertificateRefusal = HostnameRefusal | 'invalid-certificate' | 'unreadable-pem' | 'key-mismatch';

export type Refused =
  | { kind: 'route'; hostname: string; appId: string; reason: RouteRefusal }
  | { kind: 'certificate'; id: string; reason: CertificateRefusal };

export interface CertificateFile {
  certificateId: string;
  certFile: string;
  keyFile: string;
  certificatePem: string;
  privateKeyPem: string;
}

export interface RenderedRouting {
  config: TraefikDynamicConfig;
  certificateFiles: CertificateFile[];
  refused: Refused[];
}

/** Traefik probes the local replicas so the failover service can switch to the other nodes'. */
const LOCAL_HEALTH = { interval: '5s', timeout: '3s' } as const;

const printable = (v: unknown) => (typeof v === 'string' ? v.slice(0, 300) : String(v));

export function renderDynamicConfig(input: RoutingInput): RenderedRouting {
  const refused: Refused[] = [];
  const { certificateFiles, covered } = acceptCertificates(input, refused);
  const routes = acceptRoutes(input.routes, refused);

  const agentServer = { url: `http://${input.agentUpstream}` };
  const services: Record<string, TraefikService> = { [AGENT_SERVICE]: { loadBalancer: { servers: [agentServer] } } };
  const routers: Record<string, TraefikRouter> = {
    [CHALLENGE_ROUTER]: {
      entryPoints: [ENTRYPOINTS.web],
      rule: `PathPrefix(\`${ACME_CHALLENGE_PREFIX}\`)`,
      priority: CHALLENGE_ROUTER_PRIORITY,
      service: AGENT_SERVICE,
    },
  };

  const upstreamsByApp = new Map<string, Map<string, boolean>>();
  for (const route of routes) {
    const byAddress = upstreamsByApp.get(route.appId) ?? new Map<string, boolean>();
    for (const u of route.upstreams) byAddress.set(u.address, (byAddress.get(u.address) ?? false) || u.local);
    upstreamsByApp.set(route.appId, byAddress);
  }
  for (const [appId, byAddress] of [...upstreamsByApp].sort(([a], [b]) => (a < b ? -1 : 1))) {
    Object.assign(services, appServices(appId, byAddress, localHealthPath(input.allocations, appId), agentServer));
  }

  for (const route of routes) {
    const service = serviceName(route.appId);
    const rule = hostRule(route.hostname);
    // HTTPS is forced only once a certificate is here: before that the app answers on plain HTTP
    // (and on HTTPS with Traefik's default certificate) rather than redirecting to an error page.
    const redirect = route.tls && covered.has(route.hostname);
    routers[routerName(route.hostname, ENTRYPOINTS.web)] = {
      entryPoints: [ENTRYPOINTS.web],
      rule,
      service,
      ...(redirect ? { middlewares: [REDIRECT_MIDDLEWARE] } : {}),
    };
    if (route.tls) routers[routerName(route.hostname, ENTRYPOINTS.websecure)] = { entryPoints: [ENTRYPOINTS.websecure], rule, service, tls: {} };
  }

  const config: TraefikDynamicConfig = {
    http: {
      routers,
      services,
      middlewares: { [REDIRECT_MIDDLEWARE]: { redirectScheme: { scheme: 'https', permanent: true } } },
    },
  };
  if (certificateFiles.length > 0) {
    config.tls = { certificates: certificateFiles.map((f) => ({ certFile: f.certFile, keyFile: f.keyFile })) };
  }
  return { config, certificateFiles, refused };
}

/**
 * An app's service. Local and remote replicas together: a failover service (local first, the
 * other nodes' replicas when Traefik's health check finds no local one up). Traefik's load
 * balancer is weighted round robin, so server order alone would not prefer local replicas, and a
 * weighted service always sends some traffic to every child. Failover needs a health check on its
 * main service, which Traefik has only for HTTP: an app checked by TCP gets one pool of all replicas.
 * No replica at all: the agent's responder, which answers 503, so the hostname stays this app's.
 */
function appServices(appId: string, byAddress: Map<string, boolean>, healthPath: string | undefined, agentServer: { url: string }): Record<string, TraefikService> {
  const name = serviceName(appId);
  const sorted = [...byAddress].sort(([a], [b]) => (a < b ? -1 : 1));
  const servers = (local: boolean) => sorted.filter(([, l]) => l === local).map(([address]) => ({ url: `http://${address}` }));
  const local = servers(true);
  const remote = servers(false);
  if (local.length === 0 && remote.length === 0) return { [name]: { loadBalancer: { servers: [agentServer] } } };
  if (local.length === 0 || remote.length === 0 || healthPath === undefined) {
    return { [name]: { loadBalancer: { servers: [...local, ...remote] } } };
  }
  const main: TraefikLoadBalancer = { servers: local, healthCheck: { path: healthPath, ...LOCAL_HEALTH } };
  return {
    [name]: { failover: { service: `${name}-local`, fallback: `${name}-remote` } },
    [`${name}-local`]: { loadBalancer: main },
    [`${name}-remote`]: { loadBalancer: { servers: remote } },
  };
}

function localHealthPath(allocations: RoutingInput['allocations'], appId: string): string | undefined {
  const paths = allocations
    .filter((a) => a.appId === appId && a.desiredStatus === 'running' && a.healthCheck.type === 'http')
    .map((a) => (a.healthCheck.type === 'http' ? a.healthCheck.path : ''))
    .sort();
  return paths[0];
}

function acceptRoutes(routes: readonly Route[], refused: Refused[]): Route[] {
  const checked: Route[] = [];
  for (const raw of routes) {
    const parsed = routeSchema.safeParse(raw);
    const reason = checkHostname((raw as { hostname?: unknown }).hostname) ?? (parsed.success ? null : 'invalid-route');
    if (reason || !parsed.success) {
      refused.push({ kind: 'route', hostname: printable(raw.hostname), appId: printable(raw.appId), reason: reason ?? 'invalid-route' });
      continue;
    }
    checked.push(parsed.data);
  }
  // A hostname claimed by two apps is routed to neither: guessing could hand one tenant's traffic
  // to another. The same app twice is merged (HTTPS if either asks for it).
  const byHost = new Map<string, Route[]>();
  for (const r of checked) byHost.set(r.hostname, [...(byHost.get(r.hostname) ?? []), r]);
  const accepted: Route[] = [];
  for (const [hostname, group] of [...byHost].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const first = group[0]!;
    if (group.some((r) => r.appId !== first.appId)) {
      for (const r of group) refused.push({ kind: 'route', hostname, appId: r.appId, reason: 'duplicate-hostname' });
      continue;
    }
    accepted.push({ hostname, appId: first.appId, tls: group.some((r) => r.tls), upstreams: group.flatMap((r) => r.upstreams) });
  }
  return accepted;
}

function acceptCertificates(input: RoutingInput, refused: Refused[]): { certificateFiles: CertificateFile[]; covered: Set<string> } {
  const certificateFiles: CertificateFile[] = [];
  const covered = new Set<string>();
  for (const raw of [...input.certificates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const parsed = certificateSchema.safeParse(raw);
    const hostnameRefusal = Array.isArray(raw.hostnames) ? raw.hostnames.map(checkHostname).find((r) => r !== null) : undefined;
    const reason = hostnameRefusal ?? (parsed.success ? pemProblem(parsed.data) : 'invalid-certificate');
    if (reason || !parsed.success) {
      refused.push({ kind: 'certificate', id: printable(raw.id), reason: reason ?? 'invalid-certificate' });
      continue;
    }
    const c = parsed.data;
    const base = certificateBaseName(c.id, c.certificatePem, c.privateKeyPem);
    certificateFiles.push({
      certificateId: c.id,
      certFile: path.join(input.certificatesDir, `${base}.crt`),
      keyFile: path.join(input.certificatesDir, `${base}.key`),
      certificatePem: c.certificatePem,
      privateKeyPem: c.privateKeyPem,
    });
    for (const h of c.hostnames) covered.add(h);
  }
  return { certificateFiles, covered };
}

/** Traefik skips a pair it cannot load and serves its default certificate instead; refuse it here, visibly. */
function pemProblem(c: Certificate): CertificateRefusal | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(c.certificatePem);
    const key = createPrivateKey(c.privateKeyPem);
    return cert.checkPrivateKey(key) ? null : 'key-mismatch';
  } catch {
    return 'unreadable-pem';
  }
}
