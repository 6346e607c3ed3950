// The one place that reads the environment. Settings are parsed once, every problem is reported at
// once, and the result is frozen so no module can change configuration at run time.
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const masterKey = z.string().refine((v) => Buffer.from(v, 'base64').length === 32, '32 bytes, base64-encoded');
const hostPort = z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/, 'expected host[:port]');

const schema = z
  .object({
    KARVON_PORT: port.default(8080),
    KARVON_HOST: z.string().min(1).default('0.0.0.0'),
    DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    KARVON_DATA_DIR: optionalString,
    KARVON_EMBEDDED_PG_PORT: port.default(5433),
    KARVON_PUBLIC_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    KARVON_ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
    KARVON_ADMIN_PASSWORD: optionalString.pipe(z.string().min(12, 'at least 12 characters').optional()),
    KARVON_MASTER_KEY: optionalString.pipe(masterKey.optional()),
    // During a master-key rotation: the keys before it, comma-separated, so secrets sealed with
    // them still open until they are re-sealed.
    KARVON_PREVIOUS_MASTER_KEYS: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(masterKey)),
    KARVON_APPS_DOMAIN: z.string().regex(/^[a-z0-9.-]+$/, 'a lower-case DNS name').default('apps.localhost'),
    KARVON_ACME_DIRECTORY_URL: optionalString.pipe(z.url().optional()),
    KARVON_ACME_EMAIL: optionalString.pipe(z.email().optional()),
    KARVON_ACME_CA_FILE: optionalString,
    KARVON_HEARTBEAT_SECONDS: seconds(1, 3600).default(30),
    KARVON_NODE_GRACE_SECONDS: seconds(1, 86_400).default(90),
    KARVON_ROLLOUT_TIMEOUT_SECONDS: seconds(10, 86_400).default(600),
    KARVON_DEGRADED_PERCENT: z.coerce.number().int().min(50).max(100).default(90),
    KARVON_GIT_ALLOWED_HOSTS: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(hostPort)),
    KARVON_DNS_RESOLVER: optionalString.pipe(hostPort.optional()),
    KARVON_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    KARVON_ACCESS_TOKEN_SECONDS: seconds(10, 86_400).default(900),
    KARVON_AGENT_TOKEN_SECONDS: seconds(5, 86_400).default(900),
    KARVON_REFRESH_TOKEN_DAYS: seconds(1, 365).default(30),
    KARVON_TRUST_PROXY: z.enum(['0', '1', 'true', 'false']).default('0').transform((v) => v === '1' || v === 'true'),
    KARVON_MUTATIONS_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(120),
    KARVON_MUTATION_BURST: z.coerce.number().int().min(1).max(1_000_000).default(60),
    // After the balance reaches zero, how long apps keep running before they are suspended.
    KARVON_BILLING_GRACE_HOURS: z.coerce.number().int().min(0).max(720).default(24),
    // Where `node scripts/pack-agent.mjs` put the agent release tarballs GET /agent/download serves.
    KARVON_AGENT_RELEASE_DIR: optionalString,
  });

export interface ControlPlaneConfig {
  port: number;
  host: string;
  /** undefined: start the embedded PostgreSQL in `dataDir` */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPostgresPort: number;
  publicUrl: string;
  admin: { email: string; password: string } | undefined;
  /** base64 of 32 bytes; undefined: generated into the data dir on first start */
  masterKey: string | undefined;
  /** base64 keys from before a rotation: they still open secrets, never seal */
  previousMasterKeys: readonly string[];
  appsDomain: string;
  acme: { directoryUrl: string | undefined; email: string | undefined; caFile: string | undefined };
  heartbeatSeconds: number;
  nodeGraceSeconds: number;
  /** a deploy whose replicas are not all healthy this long after its rollout began fails */
  rolloutTimeoutSeconds: number;
  /** a node at or above this % of CPU (smoothed), memory or disk is `degraded`; 100 turns it off */
  degradedPercent: number;
  gitAllowedHosts: readonly string[];
  dnsResolver: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  accessTokenSeconds: number;
  /** lifetime of the agent JWTs a node credential buys; agents refresh them over the socket */
  agentTokenSeconds: number;
  refreshTokenDays: number;
  trustProxy: boolean;
  /** per user: POST/PUT/PATCH/DELETE per minute, and at most `burst` of them in any 10 seconds */
  mutationLimits: { perMinute: number; burst: number };
  /** hours between the balance reaching zero and the owner's apps being suspended */
  billingGraceHours: number;
  /** the agent release tarballs (`karvon-agent-<version>-linux-<arch>.tar.gz`) served to installers */
  agentReleaseDir: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * As root the embedded PostgreSQL runs as the `postgres` user, which cannot reach into root's
 * 0700 home; root therefore keeps its data where system services do.
 */
function defaultDataDir(): string {
  return userInfo().uid === 0 ? '/var/lib/karvon' : path.join(homedir(), '.karvon');
}

/**
 * pack-agent's default output, `<checkout>/dist/agent-release`: this module is
 * apps/control-plane/src/config.ts, or bundled into apps/control-plane/dist/main.js, three
 * levels below the checkout either way.
 */
function defaultAgentReleaseDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/agent-release');
}

export function loadConfig(env: Record<string, string | undefined>): Readonly<ControlPlaneConfig> {
  const parsed = schema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  // Checked on the raw values so it is reported together with any other problem.
  if (!env.KARVON_ADMIN_EMAIL?.trim() !== !env.KARVON_ADMIN_PASSWORD?.trim()) {
    problems.push('KARVON_ADMIN_EMAIL, KARVON_ADMIN_PASSWORD: set both or neither');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const v = parsed.data;
  const config: ControlPlaneConfig = {
    port: v.KARVON_PORT,
    host: v.KARVON_HOST,
    databaseUrl: v.DATABASE_URL,
    dataDir: path.resolve(v.KARVON_DATA_DIR ?? defaultDataDir()),
    embeddedPostgresPort: v.KARVON_EMBEDDED_PG_PORT,
    publicUrl: (v.KARVON_PUBLIC_URL ?? `http://localhost:${v.KARVON_PORT}`).replace(/\/+$/, ''),
    admin:
      v.KARVON_ADMIN_EMAIL && v.KARVON_ADMIN_PASSWORD
        ? { email: v.KARVON_ADMIN_EMAIL.toLowerCase(), password: v.KARVON_ADMIN_PASSWORD }
        : undefined,
    masterKey: v.KARVON_MASTER_KEY,
    previousMasterKeys: Object.freeze([...v.KARVON_PREVIOUS_MASTER_KEYS]),
    appsDomain: v.KARVON_APPS_DOMAIN,
    acme: { directoryUrl: v.KARVON_ACME_DIRECTORY_URL, email: v.KARVON_ACME_EMAIL, caFile: v.KARVON_ACME_CA_FILE },
    heartbeatSeconds: v.KARVON_HEARTBEAT_SECONDS,
    nodeGraceSeconds: v.KARVON_NODE_GRACE_SECONDS,
    rolloutTimeoutSeconds: v.KARVON_ROLLOUT_TIMEOUT_SECONDS,
    degradedPercent: v.KARVON_DEGRADED_PERCENT,
    gitAllowedHosts: Object.freeze([...v.KARVON_GIT_ALLOWED_HOSTS]),
    dnsResolver: v.KARVON_DNS_RESOLVER,
    logLevel: v.KARVON_LOG_LEVEL,
    accessTokenSeconds: v.KARVON_ACCESS_TOKEN_SECONDS,
    agentTokenSeconds: v.KARVON_AGENT_TOKEN_SECONDS,
    refreshTokenDays: v.KARVON_REFRESH_TOKEN_DAYS,
    trustProxy: v.KARVON_TRUST_PROXY,
    mutationLimits: { perMinute: v.KARVON_MUTATIONS_PER_MINUTE, burst: v.KARVON_MUTATION_BURST },
    billingGraceHours: v.KARVON_BILLING_GRACE_HOURS,
    agentReleaseDir: path.resolve(v.KARVON_AGENT_RELEASE_DIR ?? defaultAgentReleaseDir()),
  };
  return Object.freeze({
    ...config,
    acme: Object.freeze(config.acme),
    admin: config.admin && Object.freeze(config.admin),
    mutationLimits: Object.freeze(config.mutationLimits),
  });
}
