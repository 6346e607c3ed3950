import { describe, expect, it } from 'vitest';
import { demuxLogs } from './container-logs';

const frame = (stream: number, text: string) => {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
};

describe('demuxLogs', () => {
  it('joins stdout and stderr frames in order', () => {
    expect(demuxLogs(Buffer.concat([frame(1, 'starting\n'), frame(2, 'about to crash\n'), frame(1, 'ü')]))).toBe('starting\nabout to crash\nü');
  });

  it('returns an unframed (TTY) payload as it is', () => {
    expect(demuxLogs(Buffer.from('plain text\n'))).toBe('plain text\n');
  });
});
