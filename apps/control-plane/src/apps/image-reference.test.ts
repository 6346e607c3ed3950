import { describe, expect, it } from 'vitest';
import { parseImageReference } from './image-reference';

describe('parseImageReference', () => {
  it.each([
    ['nginx', { path: 'nginx' }],
    ['node:20-bookworm-slim', { path: 'node', tag: '20-bookworm-slim' }],
    ['library/node:20', { path: 'library/node', tag: '20' }],
    ['registry.example.com:5000/team/app:v1.2', { domain: 'registry.example.com:5000', path: 'team/app', tag: 'v1.2' }],
    ['localhost/app', { domain: 'localhost', path: 'app' }],
    ['127.0.0.1:5000/a_b__c-d.e', { domain: '127.0.0.1:5000', path: 'a_b__c-d.e' }],
    [`app@sha256:${'a'.repeat(64)}`, { path: 'app', digest: `sha256:${'a'.repeat(64)}` }],
    [`ghcr.io/o/app:1@sha256:${'b'.repeat(64)}`, { domain: 'ghcr.io', path: 'o/app', tag: '1', digest: `sha256:${'b'.repeat(64)}` }],
  ])('accepts %s', (input, ref) => {
    expect(parseImageReference(input)).toEqual({ ok: true, ref });
  });

  it.each([
    ['', '1–255'],
    ['Nginx', 'lower-case'],
    ['app:', 'tag'],
    ['app:-x', 'tag'],
    ['app@sha256:xyz', 'digest'],
    ['a//b', 'lower-case'],
    ['a--', 'lower-case'],
    ['reg.example.com:99999/app', 'port'],
    ['-rm', 'lower-case'],
    ['app name', 'lower-case'],
    ['x'.repeat(256), '1–255'],
  ])('refuses %s', (input, message) => {
    const parsed = parseImageReference(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });
});
