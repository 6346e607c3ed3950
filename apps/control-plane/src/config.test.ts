import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({ KARVON_DATA_DIR: '/tmp/k' });
    expect(c).toMatchObject({
      port: 8080,
      databaseUrl: undefined,
      dataDir: '/tmp/k',
      publicUrl: 'http://localhost:8080',
      heartbeatSeconds: 30,
      nodeGraceSeconds: 90,
      gitAllowedHosts: [],
      admin: undefined,
    });
  });

  it('returns a frozen object', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({
        KARVON_PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        KARVON_MASTER_KEY: 'dG9vIHNob3J0',
        KARVON_ADMIN_EMAIL: 'admin@example.test',
        KARVON_GIT_ALLOWED_HOSTS: 'git.internal:3000, bad host!',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['KARVON_PORT', 'DATABASE_URL', 'KARVON_MASTER_KEY', 'KARVON_ADMIN_PASSWORD', 'KARVON_GIT_ALLOWED_HOSTS']) {
      expect(problems).toContain(name);
    }
  });

  it('serves agent releases from pack-agent\'s default output unless KARVON_AGENT_RELEASE_DIR says otherwise', () => {
    const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    expect(loadConfig({}).agentReleaseDir).toBe(path.join(repoRoot, 'dist', 'agent-release'));
    expect(loadConfig({ KARVON_AGENT_RELEASE_DIR: ' /srv/karvon/releases/ ' }).agentReleaseDir).toBe('/srv/karvon/releases');
    expect(loadConfig({ KARVON_AGENT_RELEASE_DIR: '' }).agentReleaseDir).toBe(path.join(repoRoot, 'dist', 'agent-release'));
  });

  it('parses lists and a public URL without its trailing slash', () => {
    const c = loadConfig({ KARVON_GIT_ALLOWED_HOSTS: 'git.internal:3000, 127.0.0.1:9418', KARVON_PUBLIC_URL: 'https://karvon.example/' });
    expect(c.gitAllowedHosts).toEqual(['git.internal:3000', '127.0.0.1:9418']);
    expect(c.publicUrl).toBe('https://karvon.example');
  });
});

describe('loadConfig: secrets rotation and mutation limits', () => {
  const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');

  it('defaults to 120 changes a minute, 60 in a burst, and no previous master keys', () => {
    const c = loadConfig({});
    expect(c.mutationLimits).toEqual({ perMinute: 120, burst: 60 });
    expect(c.previousMasterKeys).toEqual([]);
  });

  it('reads previous master keys and limits, refusing bad ones by name', () => {
    const c = loadConfig({ KARVON_PREVIOUS_MASTER_KEYS: `${key(1)}, ${key(2)}`, KARVON_MUTATIONS_PER_MINUTE: '600', KARVON_MUTATION_BURST: '100' });
    expect(c.previousMasterKeys).toEqual([key(1), key(2)]);
    expect(c.mutationLimits).toEqual({ perMinute: 600, burst: 100 });
    let error: unknown;
    try {
      loadConfig({ KARVON_PREVIOUS_MASTER_KEYS: `${key(1)},dG9vIHNob3J0`, KARVON_MUTATION_BURST: '0' });
    } catch (e) {
      error = e;
    }
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('KARVON_PREVIOUS_MASTER_KEYS');
    expect(problems).toContain('KARVON_MUTATION_BURST');
  });
});
