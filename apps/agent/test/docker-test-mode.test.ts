// The pure parts of the Docker test helpers: the run/skip/fail decision and log demultiplexing.
import { describe, expect, it } from 'vitest';
import { demuxDockerLogs } from '../../../test/docker/containers';
import { dockerTestMode, engineAddress, missingEngineMessage } from '../../../test/docker/engine';

describe('dockerTestMode', () => {
  it('runs whenever the engine answers', () => {
    expect(dockerTestMode({}, true)).toBe('run');
    expect(dockerTestMode({ KARVON_REQUIRE_DOCKER: '1' }, true)).toBe('run');
  });

  it('skips without an engine unless Docker is required, then fails', () => {
    expect(dockerTestMode({}, false)).toBe('skip');
    expect(dockerTestMode({ KARVON_REQUIRE_DOCKER: '0' }, false)).toBe('skip');
    expect(dockerTestMode({ KARVON_REQUIRE_DOCKER: '' }, false)).toBe('skip');
    expect(dockerTestMode({ KARVON_REQUIRE_DOCKER: '1' }, false)).toBe('fail');
    expect(dockerTestMode({ KARVON_REQUIRE_DOCKER: 'true' }, false)).toBe('fail');
  });

  it('names the engine address in the failure message', () => {
    expect(engineAddress({})).toBe('unix:///var/run/docker.sock');
    expect(missingEngineMessage({ DOCKER_HOST: 'unix:///nonexistent.sock' })).toMatch(
      /^KARVON_REQUIRE_DOCKER=1 but no Docker engine answers at unix:\/\/\/nonexistent\.sock/,
    );
  });
});

describe('demuxDockerLogs', () => {
  const frame = (stream: number, data: Buffer | string): Buffer => {
    const body = Buffer.from(data);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(body.length, 4);
    return Buffer.concat([header, body]);
  };

  it('splits stdout from stderr and joins a character cut across frames', () => {
    const euro = Buffer.from('€'); // 3 bytes
    const payload = Buffer.concat([
      frame(1, 'hello '),
      frame(2, 'warn\n'),
      frame(1, euro.subarray(0, 1)),
      frame(1, Buffer.concat([euro.subarray(1), Buffer.from('\n')])),
      frame(1, ''),
    ]);
    expect(demuxDockerLogs(payload)).toEqual({ stdout: 'hello €\n', stderr: 'warn\n' });
    expect(demuxDockerLogs(Buffer.alloc(0))).toEqual({ stdout: '', stderr: '' });
  });

  it('rejects truncated or raw (TTY) payloads', () => {
    expect(() => demuxDockerLogs(frame(1, 'abc').subarray(0, 9))).toThrow(/truncated frame/);
    expect(() => demuxDockerLogs(Buffer.from('plain tty output'))).toThrow(/bad frame header/);
  });
});
