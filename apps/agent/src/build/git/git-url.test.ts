import { describe, expect, it } from 'vitest';
import { parseGitUrl, redactGitUrl } from './git-url';

describe('parseGitUrl', () => {
  it.each([
    ['https://github.com/acme/shop.git', 'https', 'github.com', 443],
    ['https://GitLab.example.com:8443/group/sub/repo', 'https', 'gitlab.example.com', 8443],
    ['https://x-access-token:ghp_abc123@github.com/acme/shop.git', 'https', 'github.com', 443],
    ['https://[2001:db8::1]/r.git', 'https', '2001:db8::1', 443],
    ['ssh://git@github.com/acme/shop.git', 'ssh', 'github.com', 22],
    ['ssh://git@git.example.com:2222/~user/repo.git', 'ssh', 'git.example.com', 2222],
    ['git@github.com:acme/shop.git', 'ssh', 'github.com', 22],
    ['deploy@10.0.0.5:/srv/repo.git', 'ssh', '10.0.0.5', 22],
  ])('accepts %s', (url, transport, host, port) => {
    expect(parseGitUrl(url)).toEqual({ ok: true, remote: { transport, host, port, url } });
  });

  it.each([
    ['', /empty/],
    ['-uhttps://x/y', /starts with "-"/],
    ['--upload-pack=touch /tmp/x', /starts with "-"/],
    ['ssh://-oProxyCommand=touch/x', /malformed/],
    ['ssh://git@-oProxyCommand=x/y', /malformed/],
    ['git@-oProxyCommand=x:repo', /not an https/],
    ['git@host:-repo', /not an https/],
    ['git@host:/-repo', /not an https/],
    ['https://host/-evil/repo', /starts with "-"/],
    ['file:///etc/passwd', /file:\/\/ is not allowed/],
    ['/srv/git/repo.git', /local paths/],
    ['./repo', /local paths/],
    ['repo.git', /local paths/],
    ['ext::sh -c touch% /tmp/x', /whitespace|remote helpers/],
    ['ext::sh', /remote helpers/],
    ['fd::3', /remote helpers/],
    ['git://github.com/acme/shop.git', /git:\/\/ is not allowed/],
    ['http://github.com/acme/shop.git', /http:\/\/ is not allowed/],
    ['https://github.com/acme/shop.git\n-c', /whitespace/],
    ['https://github.com/a b', /whitespace/],
    ['https://github.com/acme/shop.git?x=1', /malformed/],
    ['https://github.com/acme#frag', /malformed/],
    ['https://github.com:99999/acme', /port/],
    ['https://[zz::1]/r', /malformed/],
    ['https://[1::2::3]/r', /IPv6/],
    ['https://', /malformed/],
    ['github.com:acme/shop.git', /not an https/],
    ['x'.repeat(3000), /longer than/],
  ])('refuses %j', (url, reason) => {
    const r = parseGitUrl(url);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('redacts https credentials for logs', () => {
    expect(redactGitUrl('https://user:tok@github.com/a/b.git')).toBe('https://***@github.com/a/b.git');
    expect(redactGitUrl('git@github.com:a/b.git')).toBe('git@github.com:a/b.git');
  });
});
