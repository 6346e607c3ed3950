import { describe, expect, it } from 'vitest';
import { appSource } from './app-schemas';
import { planSourceChange, sourceView, tokenColumns } from './git-credentials';
import { formatPublicKey } from './ssh-key';

const https = 'https://git.example.com/acme/shop.git';

describe('planSourceChange', () => {
  it('strips auth from what is stored and decides the token', () => {
    expect(planSourceChange(undefined, { type: 'git', url: https, branch: 'main', auth: { type: 'token', token: 't0k' } })).toEqual({
      stored: { type: 'git', url: https, branch: 'main' },
      token: { kind: 'set', username: 'x-access-token', token: 't0k' },
    });
    expect(planSourceChange(undefined, { type: 'git', url: https, branch: 'main', auth: { type: 'token', token: 't', username: 'bot' } }).token).toEqual({ kind: 'set', username: 'bot', token: 't' });
    expect(planSourceChange(undefined, { type: 'image', image: 'busybox' })).toEqual({ stored: { type: 'image', image: 'busybox' }, token: { kind: 'clear' } });
  });

  it('keeps a token only while the URL is the same and auth is left out', () => {
    const current = { type: 'git' as const, url: https, branch: 'main' };
    expect(planSourceChange(current, { type: 'git', url: https, branch: 'dev' }).token).toEqual({ kind: 'keep' });
    expect(planSourceChange(current, { type: 'git', url: 'https://evil.example.com/acme/shop.git', branch: 'main' }).token).toEqual({ kind: 'clear' });
    expect(planSourceChange(current, { type: 'git', url: https, branch: 'main', auth: null }).token).toEqual({ kind: 'clear' });
    expect(planSourceChange(current, { type: 'git', url: 'git@git.example.com:acme/shop.git', branch: 'main' }).token).toEqual({ kind: 'clear' });
  });

  it('tokenColumns seals a new token and clears or keeps', () => {
    expect(tokenColumns({ kind: 'set', username: 'u', token: 't' }, (t) => `sealed(${t})`)).toEqual({ git_token_ciphertext: 'sealed(t)', git_token_username: 'u' });
    expect(tokenColumns({ kind: 'clear' }, () => 'x')).toEqual({ git_token_ciphertext: null, git_token_username: null });
    expect(tokenColumns({ kind: 'keep' }, () => 'x')).toEqual({});
  });
});

describe('sourceView', () => {
  const key = formatPublicKey(Buffer.alloc(32, 7), 'karvon-app-x');
  it('names a stored credential and never shows it', () => {
    expect(sourceView({ type: 'git', url: https, branch: 'main' }, { git_token_ciphertext: 'v1.k.sealed', git_token_username: 'bot' })).toEqual({ type: 'git', url: https, branch: 'main', auth: { type: 'token', username: 'bot' } });
    const ssh = { type: 'git' as const, url: 'ssh://git@h/r.git', branch: 'main' };
    expect(sourceView(ssh, { deploy_key_public: key.publicKey, git_token_ciphertext: 'v1.k.sealed' })).toEqual({ ...ssh, auth: { type: 'deploy-key', fingerprint: key.fingerprint } });
    expect(sourceView(ssh, {})).toEqual(ssh);
    expect(sourceView({ type: 'image', image: 'busybox' }, { git_token_ciphertext: 'v1.k.s' })).toEqual({ type: 'image', image: 'busybox' });
  });
});

describe('appSource auth', () => {
  it('takes a token for https only, naming source.auth otherwise', () => {
    expect(appSource.safeParse({ type: 'git', url: https, auth: { type: 'token', token: 'abc' } }).success).toBe(true);
    const bad = appSource.safeParse({ type: 'git', url: 'ssh://git@h/r.git', auth: { type: 'token', token: 'abc' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['auth']);
  });
});
