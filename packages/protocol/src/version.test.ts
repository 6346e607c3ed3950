import { describe, expect, it } from 'vitest';
import { checkCompatibility, parseProtocolVersion, PROTOCOL_VERSION } from './version';

describe('PROTOCOL_VERSION', () => {
  it('is MAJOR.MINOR and starts at 1.0', () => {
    expect(PROTOCOL_VERSION).toBe('1.0');
    expect(parseProtocolVersion(PROTOCOL_VERSION)).toEqual({ major: 1, minor: 0 });
  });
});

describe('checkCompatibility', () => {
  it.each([
    ['1.0', '1.0', '1.0'],
    ['1.3', '1.0', '1.0'], // newer agent, older server
    ['1.0', '1.7', '1.0'], // older agent, newer server
    ['1.12', '1.4', '1.4'],
    ['0.1', '0.9', '0.1'],
  ])('agent %s and server %s are compatible, speaking %s', (agent, server, negotiated) => {
    expect(checkCompatibility(agent, server)).toEqual({ ok: true, negotiated });
  });

  it.each([
    ['2.0', '1.0'],
    ['1.0', '2.0'],
    ['0.9', '1.0'],
    ['1', '1.0'],
    ['1.0.0', '1.0'],
    ['v1.0', '1.0'],
    ['01.0', '1.0'],
    ['1.00', '1.0'],
    [' 1.0', '1.0'],
    ['1.-1', '1.0'],
    ['1.0', ''],
    ['', ''],
    ['1.1234567', '1.0'], // more digits than any real version; never a lossy number
    ['1e3.0', '1.0'],
    ['１.0', '1.0'], // full-width digit
  ])('agent %j and server %j are incompatible', (agent, server) => {
    const result = checkCompatibility(agent, server);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('PROTOCOL_VERSION_UNSUPPORTED');
      expect(result.error.recoverable).toBe(false);
    }
  });

  it('names both versions when the majors differ', () => {
    const result = checkCompatibility('2.1', '1.0');
    expect(result.ok || result.error.message).toMatch(/2\.1.*1\.0/);
  });

  it('never throws on non-string input at run time', () => {
    expect(checkCompatibility(1 as unknown as string, '1.0').ok).toBe(false);
    expect(checkCompatibility('1.0', null as unknown as string).ok).toBe(false);
  });
});
