import { describe, expect, it } from 'vitest';
import { parseReleaseName, pickRelease } from './agent-release-pick';

describe('pickRelease', () => {
  it('picks the tarball for the asked architecture', () => {
    const names = ['karvon-agent-0.1.0-linux-amd64.tar.gz', 'karvon-agent-0.1.0-linux-arm64.tar.gz', 'karvon-agent-0.1.0-linux-amd64.tar.gz.sha256'];
    expect(pickRelease(names, 'amd64')).toEqual({ fileName: 'karvon-agent-0.1.0-linux-amd64.tar.gz', version: '0.1.0', arch: 'amd64' });
    expect(pickRelease(names, 'arm64')?.fileName).toBe('karvon-agent-0.1.0-linux-arm64.tar.gz');
  });

  it('picks the newest version, by number not by text, a release over its prerelease', () => {
    const names = [
      'karvon-agent-0.9.0-linux-amd64.tar.gz',
      'karvon-agent-0.10.0-rc.1-linux-amd64.tar.gz',
      'karvon-agent-0.10.0-linux-amd64.tar.gz',
      'karvon-agent-0.2.0-linux-amd64.tar.gz',
      'karvon-agent-1.0.0-linux-arm64.tar.gz',
    ];
    expect(pickRelease(names, 'amd64')?.version).toBe('0.10.0');
    expect(pickRelease(names.filter((n) => n !== 'karvon-agent-0.10.0-linux-amd64.tar.gz'), 'amd64')?.version).toBe('0.10.0-rc.1');
  });

  it('finds nothing for an architecture not packed, nor in other files', () => {
    expect(pickRelease(['karvon-agent-0.1.0-linux-amd64.tar.gz'], 'arm64')).toBeUndefined();
    expect(pickRelease([], 'amd64')).toBeUndefined();
    expect(pickRelease(['karvon-agent-0.1.0-linux-x64.tar.gz', 'README', 'karvon-agent-0.1.0-linux-amd64.tar.gz.tmp', '.karvon-agent-0.1.0-linux-amd64.tar.gz'], 'amd64')).toBeUndefined();
  });

  it('reads only names pack-agent writes', () => {
    expect(parseReleaseName('karvon-agent-1.2.3-linux-arm64.tar.gz')).toMatchObject({ version: '1.2.3', arch: 'arm64' });
    for (const bad of ['karvon-agent-1.2-linux-arm64.tar.gz', 'karvon-agent-1.2.3-darwin-arm64.tar.gz', 'karvon-agent-../1.2.3-linux-arm64.tar.gz', 'karvon-agent-1.2.3-linux-arm64.tgz']) {
      expect(parseReleaseName(bad), bad).toBeUndefined();
    }
  });
});
