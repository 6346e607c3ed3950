import { describe, expect, it } from 'vitest';
import { HOOK_ID, hookSecretAad, hookUrls, newHookId, newHookSecret, secretHint } from './hook-secret';

describe('hook secrets and ids', () => {
  it('makes 32-byte base64url secrets, different every time', () => {
    const a = newHookSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(newHookSecret()).not.toBe(a);
    expect(secretHint(a)).toBe(a.slice(-4));
  });

  it('makes ids the receiver recognises, and nothing else looks like one', () => {
    expect(newHookId()).toMatch(HOOK_ID);
    for (const bad of ['', 'whk_', 'app_0123456789abcdefghjk', 'whk_0123456789abcdefghjk/x', 'whk_0123456789ABCDEFGHJK', '../whk_0123456789abcdefghjk']) {
      expect(HOOK_ID.test(bad), bad).toBe(false);
    }
  });

  it('binds the sealed secret to its app', () => {
    expect(hookSecretAad('app_a')).not.toBe(hookSecretAad('app_b'));
    expect(hookSecretAad('app_a')).toContain('webhook-secret');
  });

  it('gives one URL per provider under /hooks, whatever the public URL ends with', () => {
    expect(hookUrls('https://k.example/', 'whk_x')).toEqual({
      github: 'https://k.example/hooks/github/whk_x',
      gitlab: 'https://k.example/hooks/gitlab/whk_x',
      gitea: 'https://k.example/hooks/gitea/whk_x',
      generic: 'https://k.example/hooks/generic/whk_x',
    });
  });
});
