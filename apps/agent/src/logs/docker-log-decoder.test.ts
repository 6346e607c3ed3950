import { describe, expect, it } from 'vitest';
import { DockerLogDecoder, splitTimestamp } from './docker-log-decoder';

const frame = (stream: 1 | 2, text: string | Buffer) => {
  const body = typeof text === 'string' ? Buffer.from(text) : text;
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
};
const NOW = '2030-01-01T00:00:00.000Z';
const TS = '2024-05-01T10:00:00.123456789Z ';

describe('splitTimestamp', () => {
  it('parses Docker RFC 3339 nano timestamps to ms, with trimmed zeros and offsets', () => {
    expect(splitTimestamp(`${TS}hello`, () => NOW)).toEqual({ at: '2024-05-01T10:00:00.123Z', text: 'hello' });
    expect(splitTimestamp('2024-05-01T10:00:00Z x', () => NOW)).toEqual({ at: '2024-05-01T10:00:00.000Z', text: 'x' });
    expect(splitTimestamp('2024-05-01T12:00:00.5+02:00 x', () => NOW)).toEqual({ at: '2024-05-01T10:00:00.500Z', text: 'x' });
    expect(splitTimestamp('no time here', () => NOW)).toEqual({ at: NOW, text: 'no time here' });
  });
});

describe('DockerLogDecoder', () => {
  it('demultiplexes stdout and stderr and splits lines, across arbitrary read boundaries', () => {
    const all = Buffer.concat([frame(1, `${TS}one\n${TS}two\r\n`), frame(2, `${TS}oops\n`), frame(1, `${TS}thr`), frame(1, 'ee\n')]);
    for (const step of [1, 3, 7, 8, 9, all.length]) {
      const d = new DockerLogDecoder(8192, () => NOW);
      const out = [];
      for (let i = 0; i < all.length; i += step) out.push(...d.push(all.subarray(i, i + step)));
      out.push(...d.end());
      expect(out.map((l) => [l.stream, l.text])).toEqual([
        ['stdout', 'one'],
        ['stdout', 'two'],
        ['stderr', 'oops'],
        ['stdout', 'three'],
      ]);
    }
  });

  it('keeps multi-byte characters whole when a read splits them', () => {
    const bytes = Buffer.from(`${TS}жжж\n`);
    const d = new DockerLogDecoder(8192, () => NOW);
    const f = frame(1, bytes);
    const cut = 8 + TS.length + 1;
    expect([...d.push(f.subarray(0, cut)), ...d.push(f.subarray(cut))].map((l) => l.text)).toEqual(['жжж']);
  });

  it('cuts lines at the limit, also an endless line without a newline, and flushes a last partial line at the end', () => {
    const d = new DockerLogDecoder(10, () => NOW);
    const long = d.push(frame(1, `${TS}${'a'.repeat(25)}\n`));
    expect(long.map((l) => l.text)).toEqual(['a'.repeat(10), 'a'.repeat(10), 'a'.repeat(5)]);
    const endless = d.push(frame(2, 'b'.repeat(200)));
    expect(endless.length).toBeGreaterThan(0);
    for (const l of endless) expect(l.text.length).toBeLessThanOrEqual(10);
    const rest = d.end();
    expect([...endless, ...rest].map((l) => l.text).join('')).toBe('b'.repeat(200));
  });

  it('reads a stream without frame headers (a TTY container) as plain stdout', () => {
    const d = new DockerLogDecoder(8192, () => NOW);
    expect(d.push(Buffer.from(`${TS}plain line\nnext`)).map((l) => [l.stream, l.text])).toEqual([['stdout', 'plain line']]);
    expect(d.end().map((l) => l.text)).toEqual(['next']);
  });
});
