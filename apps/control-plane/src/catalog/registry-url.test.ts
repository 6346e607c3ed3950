import { describe, expect, it } from 'vitest';
import { registryUrlProblem } from './registry-url';

describe('a region registry', () => {
  it('takes host[:port] and an optional path prefix', () => {
    for (const ok of ['127.0.0.1:5000', 'registry.example.com', 'registry.example.com:5000/karvon', 'localhost:5000', 'localhost', 'r.example.com/a/b-c']) {
      expect(registryUrlProblem(ok), ok).toBeUndefined();
    }
  });

  it('refuses schemes, bare names, tags, digests, bad ports and junk', () => {
    for (const bad of [
      'https://registry.example.com',
      'registry',
      'registry.example.com:5000/karvon:latest',
      'registry.example.com/x@sha256:' + 'a'.repeat(64),
      'registry.example.com:99999',
      'registry.example.com/UPPER',
      'registry.example.com/../x',
      'reg istry.example.com',
      '-bad.example.com',
      '',
    ]) {
      expect(registryUrlProblem(bad), bad).toBeDefined();
    }
  });
});
