import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { branchNameProblem } from './ref-format';

const valid = ['main', 'feature/x', 'release-1.2', 'a_b', 'v1.0/rc.1', 'ü-branch', 'a.b', 'x@y', 'a-', 'UPPER/case'];
const invalid = ['', '-main', '--force', 'a..b', 'a.lock', 'x/y.lock', '.hidden', 'x/.y', 'a/', '/a', 'a//b', 'a.', 'a@{1}', '@{-1}', 'a b', 'a\tb', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[b', 'a\\b', 'a\x7f', 'HEAD', 'x'.repeat(256)];

describe('branchNameProblem', () => {
  it.each(valid)('accepts %j', (b) => expect(branchNameProblem(b)).toBeUndefined());
  it.each(invalid)('refuses %j', (b) => expect(branchNameProblem(b)).toEqual(expect.any(String)));

  // The re-implementation agrees with git itself (`@` alone is the one name git accepts as a
  // branch that we refuse: it means HEAD on the command line).
  it('agrees with git check-ref-format --branch', () => {
    for (const b of [...valid, ...invalid.filter((x) => x !== '' && x.length < 256)]) {
      let gitSays: boolean;
      try {
        execFileSync('git', ['check-ref-format', '--branch', b], { stdio: 'ignore', cwd: '/' });
        gitSays = true;
      } catch {
        gitSays = false;
      }
      expect(branchNameProblem(b) === undefined, b).toBe(gitSays);
    }
    expect(branchNameProblem('@')).toEqual(expect.any(String));
  });
});
