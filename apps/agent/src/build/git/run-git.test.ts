import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitConfig, gitEnv } from './git-hardening';
import { GitCommandError, gitArgv, runGit } from './run-git';

describe('gitArgv', () => {
  it('puts every setting before the command as -c key=value', () => {
    expect(gitArgv(['protocol.allow=never', 'init.templateDir='], ['fetch', '--', 'https://h/r.git', 'refs/heads/main'])).toEqual(['-c', 'protocol.allow=never', '-c', 'init.templateDir=', 'fetch', '--', 'https://h/r.git', 'refs/heads/main']);
  });

  it('passes the hardening settings through unchanged', () => {
    const config = gitConfig({ caFile: '/etc/ca.pem' });
    expect(gitArgv(config, ['init']).filter((_, i) => i % 2 === 1).slice(0, config.length)).toEqual(config);
  });

  it('refuses a setting that is not key=value or reads as an option', () => {
    for (const bad of ['--upload-pack=x', 'noequals', '=x', '-c']) expect(() => gitArgv([bad], ['init'])).toThrow(/not a git setting/);
  });
});

describe('runGit', () => {
  it('runs with the given settings, and rejects with stderr on failure', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'karvon-run-git-'));
    try {
      const o = { cwd: dir, config: ['core.hooksPath=/dev/null', 'karvon.probe=set'], env: gitEnv(dir), signal: AbortSignal.timeout(10_000) };
      expect(await runGit(['config', '--get', 'karvon.probe'], o)).toBe('set\n');
      const failed = await runGit(['rev-parse', '--verify', '--end-of-options', 'HEAD'], o).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(GitCommandError);
      expect((failed as GitCommandError).message).toMatch(/not a git repository/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops git when the signal aborts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'karvon-run-git-'));
    try {
      const controller = new AbortController();
      controller.abort();
      await expect(runGit(['init', '--quiet'], { cwd: dir, config: [], env: gitEnv(dir), signal: controller.signal })).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
