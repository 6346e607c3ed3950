// The agent's one reader of argv and the environment: parsed once into a frozen command.
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

export class UsageError extends Error {}

const env = z.object({
  KARVON_STATE_DIR: z.string().min(1).optional(),
  KARVON_PROXY_DIR: z.string().min(1).optional(),
  KARVON_ADVERTISE_ADDR: z.string().min(1).optional(),
  KARVON_GIT_ALLOWED_HOSTS: z.string().default(''),
  KARVON_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DOCKER_HOST: z.string().min(1).optional(),
});

const controlPlaneUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));
const nodeName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, . _ -, up to 63');

export interface CommonConfig {
  stateDir: string;
  logLevel: z.infer<typeof env>['KARVON_LOG_LEVEL'];
  dockerHost: string | undefined;
  proxyDir: string | undefined;
  advertiseAddr: string | undefined;
  gitAllowedHosts: readonly string[];
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
  const common: CommonConfig = {
    stateDir: path.resolve(values['state-dir'] ?? e.data.KARVON_STATE_DIR ?? defaultStateDir()),
    logLevel: e.data.KARVON_LOG_LEVEL,
    dockerHost: e.data.DOCKER_HOST,
    proxyDir: e.data.KARVON_PROXY_DIR,
    advertiseAddr: e.data.KARVON_ADVERTISE_ADDR,
    gitAllowedHosts: Object.freeze(e.data.KARVON_GIT_ALLOWED_HOSTS.split(',').map((s) => s.trim()).filter(Boolean)),
  };
  return Object.freeze(register ? { command: 'register' as const, ...register, ...common } : { command: 'run' as const, ...common });
}
