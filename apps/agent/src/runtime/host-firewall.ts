// Tenant containers must not open connections to the host itself: the agent, the control plane
// (it binds 0.0.0.0 by default), a registry or database on the node. Docker already keeps tenant
// bridges apart (its isolation chains drop bridge-to-bridge traffic) but accepts traffic from a
// bridge to the host's own addresses. Every tenant bridge is named `kv-…` (see labels.ts), so one
// INPUT rule covers them all; it drops only NEW connections, so replies to the agent's health
// probes and to Docker's port proxy still flow. Commands are argv arrays, compared in tests.
import { execFile } from 'node:child_process';

export const TENANT_BRIDGES = 'kv-+';
const COMMENT = 'karvon: tenant containers cannot open connections to the host';

export const tenantInputRule = (): string[] => ['-i', TENANT_BRIDGES, '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', COMMENT, '-j', 'DROP'];

/** `iptables` argv: check for the rule, then insert it first in INPUT. `-w`: wait for the xtables lock. */
export const checkRuleArgs = (): string[] => ['-w', '5', '-C', 'INPUT', ...tenantInputRule()];
export const insertRuleArgs = (): string[] => ['-w', '5', '-I', 'INPUT', '1', ...tenantInputRule()];

export type RunCommand = (file: string, args: string[]) => Promise<{ code: number; stderr: string }>;

const runCommand: RunCommand = (file, args) =>
  new Promise((resolve) => {
    execFile(file, args, { timeout: 15_000 }, (err, _stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stderr: String(stderr) });
    });
  });

/** Idempotent: inserts the rule unless present. Throws with iptables' message when it cannot. */
export async function ensureTenantFirewall(run: RunCommand = runCommand): Promise<'present' | 'added'> {
  const check = await run('iptables', checkRuleArgs());
  if (check.code === 0) return 'present';
  const insert = await run('iptables', insertRuleArgs());
  if (insert.code !== 0) throw new Error(`iptables ${insertRuleArgs().join(' ')} failed (${insert.code}): ${insert.stderr.trim()}`);
  return 'added';
}
