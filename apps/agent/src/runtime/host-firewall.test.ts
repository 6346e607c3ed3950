import { describe, expect, it } from 'vitest';
import { checkRuleArgs, ensureTenantFirewall, insertRuleArgs, type RunCommand } from './host-firewall';

const RULE = ['-i', 'kv-+', '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'karvon: tenant containers cannot open connections to the host', '-j', 'DROP'];

describe('tenant firewall', () => {
  it('checks, then inserts the rule first in INPUT, as argv', async () => {
    expect(checkRuleArgs()).toEqual(['-w', '5', '-C', 'INPUT', ...RULE]);
    expect(insertRuleArgs()).toEqual(['-w', '5', '-I', 'INPUT', '1', ...RULE]);
    const calls: string[][] = [];
    const absent: RunCommand = (file, args) => {
      calls.push([file, ...args]);
      return Promise.resolve({ code: args[2] === '-C' ? 1 : 0, stderr: '' });
    };
    expect(await ensureTenantFirewall(absent)).toBe('added');
    expect(calls).toEqual([['iptables', ...checkRuleArgs()], ['iptables', ...insertRuleArgs()]]);
  });

  it('does nothing when the rule is there, and reports why it could not add it', async () => {
    expect(await ensureTenantFirewall(() => Promise.resolve({ code: 0, stderr: '' }))).toBe('present');
    await expect(ensureTenantFirewall(() => Promise.resolve({ code: 4, stderr: 'Permission denied (you must be root)\n' }))).rejects.toThrow(/Permission denied/);
  });
});
