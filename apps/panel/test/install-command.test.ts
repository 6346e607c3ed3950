import { describe, expect, it } from 'vitest';
import { parseInstallCommand } from './install-command';

describe('parseInstallCommand', () => {
  it('reads the control plane and token the install script passes on', () => {
    const cmd = 'curl -fsSL http://127.0.0.1:4000/agent/install.sh | sudo bash -s -- --control-plane http://127.0.0.1:4000 --token krt_abc.def';
    expect(parseInstallCommand(cmd)).toEqual({ controlPlane: 'http://127.0.0.1:4000', token: 'krt_abc.def' });
    expect(parseInstallCommand(`  ${cmd}\n`).token).toBe('krt_abc.def');
  });

  it('refuses a command without a token or with a control plane that is not a URL', () => {
    expect(() => parseInstallCommand('bash -s -- --control-plane http://x')).toThrow(/--token/);
    expect(() => parseInstallCommand('bash -s -- --control-plane http://x --token')).toThrow(/--token/);
    expect(() => parseInstallCommand('bash -s -- --control-plane --token abc')).toThrow(/--control-plane/);
    expect(() => parseInstallCommand('bash -s -- --control-plane ftp:x --token abc')).toThrow(/not a URL/);
  });
});
