import { describe, expect, it } from 'vitest';
import { detachedHeadCommit, fetchHeadObject } from './fetched-commit';

const SHA1 = 'de9d661bb53b99a7349d65935332108543f636b6';
const SHA256 = 'a'.repeat(64);

describe('fetchHeadObject', () => {
  it('reads the first line of a fetch by commit and by branch', () => {
    expect(fetchHeadObject(`${SHA1}\t\thttps://git.example.com/a.git\n`)).toBe(SHA1);
    expect(fetchHeadObject(`${SHA256}\t\tbranch 'main' of https://git.example.com/a\n`)).toBe(SHA256);
    expect(fetchHeadObject(`${SHA1}\t\tx\n${'b'.repeat(40)}\tnot-for-merge\ty\n`)).toBe(SHA1);
  });

  it('refuses anything else', () => {
    for (const text of ['', '\n', `${SHA1.toUpperCase()}\t\tx\n`, `${SHA1.slice(1)}\t\tx\n`, `${SHA1}x\t\tx\n`, `ref: refs/heads/main\n`, ` ${SHA1}\t\tx`]) {
      expect(fetchHeadObject(text)).toBeUndefined();
    }
  });
});

describe('detachedHeadCommit', () => {
  it('reads a detached HEAD', () => {
    expect(detachedHeadCommit(`${SHA1}\n`)).toBe(SHA1);
    expect(detachedHeadCommit(SHA256)).toBe(SHA256);
  });

  it('refuses a symbolic ref, a short or padded id', () => {
    for (const text of ['ref: refs/heads/master\n', `${SHA1}\n\n`, ` ${SHA1}\n`, `${SHA1.slice(0, 39)}\n`, '']) {
      expect(detachedHeadCommit(text)).toBeUndefined();
    }
  });
});
