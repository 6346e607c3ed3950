// The agent's one reader of argv and the environment: parsed once into a frozen command.
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

export class UsageError extends Error {}

const env = z.object({
  KARVON_STATE_DIR: z.string().min(1).optional(),
  /** Traefik's watched dynamic-config dir (routing/README.md); `<state dir>/proxy` by default */
  KARVON_PROXY_DIR: z.string().min(1).optional(),
  /** loopback port of the agent's HTTP-01 responder, which Traefik routes challenges to */
  KARVON_CHALLENGE_PORT: z.coerce.number().int().min(1).max(65535).default(8089),
  KARVON_ADVERTISE_ADDR: z.string().min(1).optional(),
  KARVON_GIT_ALLOWED_HOSTS: z.string().default(''),
  /** where builds clone into (one fresh folder per build); `<state dir>/builds` by default */
  KARVON_BUILD_DIR: z.string().min(1).optional(),
  /** a CA bundle for https git servers with a private CA; replaces the system bundle for git */
  KARVON_GIT_CA_FILE: z.string().min(1).optional(),
  /** host ports for published app ports, `MIN-MAX`; below Linux's ephemeral range by default */
  KARVON_PORT_RANGE: z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, 'MIN-MAX')
    .transform((v) => v.split('-').map(Number) as [number, number])
    .refine(([min, max]) => min >= 1024 && max <= 65535 && min <= max, 'a range within 1024-65535')
    .default([20000, 29999]),
  /** how long a new container may take to pass its health check before its rollout fails */
  KARVON_HEALTH_DEADLINE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** how long a replaced container is kept, unrouted, before it is stopped */
  KARVON_DRAIN_SECONDS: z.coerce.number().int().min(0).max(600).default(5),
  /** `false` when the operator manages the host firewall (the rule in runtime/host-firewall.ts) */
  KARVON_TENANT_FIREWALL: z.enum(['true', 'false']).default('true'),
  KARVON_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DOCKER_HOST: z.string().min(1).optional(),
});

const controlPlaneUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));
const nodeName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, . _ -, up to 63');

export interface CommonConfig {
  stateDir: string;
  logLevel: z.infer<typeof env>['KARVON_LOG_LEVEL'];
  dockerHost: string | undefined;
  proxyDir: string;
  challengePort: number;
  advertiseAddr: string | undefined;
  gitAllowedHosts: readonly string[];
  buildDir: string;
  gitCaFile: string | undefined;
  portRange: { min: number; max: number };
  healthDeadlineMs: number;
  drainMs: number;
  tenantFirewall: boolean;
}

export type AgentCommand =
  | ({ command: 'register'; controlPlane: string; token: string; name: string | undefined } & CommonConfig)
  | ({ command: 'run' } & CommonConfig);

export const USAGE = `usage:
  karvon-agent register --control-plane URL --token TOKEN [--state-dir DIR] [--name NAME]
  karvon-agent run [--state-dir DIR]`;

function defaultStateDir(): string {
  return userInfo().uid === 0 ? '/var/lib/karvon-agent' : path.join(homedir(), '.karvon-agent');
}

/** Parses `karvon-agent <command> [options]`; every problem is reported at once. */
export function loadAgentCommand(argv: readonly string[], environment: Record<string, string | undefined>): Readonly<AgentCommand> {
  const [command, ...rest] = argv;
  const problems: string[] = [];
  let values: Record<string, string | undefined> = {};
  try {
    values = parseArgs({
      args: rest,
      options: {
        'control-plane': { type: 'string' },
        token: { type: 'string' },
        'state-dir': { type: 'string' },
        name: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    problems.push((e as Error).message);
  }
  const e = env.safeParse(environment);
  if (!e.success) problems.push(...e.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  if (command !== 'register' && command !== 'run') problems.push(`unknown command ${command ?? '(none)'}`);
  let register: { controlPlane: string; token: string; name: string | undefined } | undefined;
  if (command === 'register') {
    const cp = controlPlaneUrl.safeParse(values['control-plane']);
    if (!cp.success) problems.push('--control-plane: an http(s) URL is required');
    if (!values.token) problems.push('--token: required');
    const name = values.name === undefined ? undefined : nodeName.safeParse(values.name);
    if (name && !name.success) problems.push(`--name: ${name.error.issues[0]?.message ?? 'invalid'}`);
    if (cp.success && values.token && (!name || name.success)) register = { controlPlane: cp.data, token: values.token, name: name?.data };
  } else if (command === 'run') {
    for (const flag of ['control-plane', 'token', 'name']) {
      if (values[flag] !== undefined) problems.push(`--${flag}: only for register`);
    }
  }
  if (problems.length > 0 || !e.success) throw new UsageError(`${problems.join('\n')}\n${USAGE}`);
  const stateDir = path.resolve(values['state-dir'] ?? e.data.KARVON_STATE_DIR ?? defaultStateDir());
  const common: CommonConfig = {
    stateDir,
    logLevel: e.data.KARVON_LOG_LEVEL,
    dockerHost: e.data.DOCKER_HOST,
    proxyDir: path.resolve(e.data.KARVON_PROXY_DIR ?? path.join(stateDir, 'proxy')),
    challengePort: e.data.KARVON_CHALLENGE_PORT,
    advertiseAddr: e.data.KARVON_ADVERTISE_ADDR,
    gitAllowedHosts: Object.freeze(e.data.KARVON_GIT_ALLOWED_HOSTS.split(',').map((s) => s.trim()).filter(Boolean)),
    buildDir: path.resolve(e.data.KARVON_BUILD_DIR ?? path.join(stateDir, 'builds')),
    gitCaFile: e.data.KARVON_GIT_CA_FILE === undefined ? undefined : path.resolve(e.data.KARVON_GIT_CA_FILE),
    portRange: Object.freeze({ min: e.data.KARVON_PORT_RANGE[0], max: e.data.KARVON_PORT_RANGE[1] }),
    healthDeadlineMs: e.data.KARVON_HEALTH_DEADLINE_SECONDS * 1000,
    drainMs: e.data.KARVON_DRAIN_SECONDS * 1000,
    tenantFirewall: e.data.KARVON_TENANT_FIREWALL === 'true',
  };
  return Object.freeze(register ? { command: 'register' as const, ...register, ...common } : { command: 'run' as const, ...common });
}
