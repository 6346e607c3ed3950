// Docker's log stream (GET /containers/{id}/logs?timestamps=1) as lines. Incremental and pure:
// bytes go in as they arrive, complete lines come out; nothing but one partial frame and one
// partial line per stream is held, and a partial line is cut at the protocol's line limit.
import { StringDecoder } from 'node:string_decoder';
import { MAX_LINE_CHARS } from '@karvon/protocol';

export type LogStreamName = 'stdout' | 'stderr';

export interface DecodedLine {
  stream: LogStreamName;
  /** ISO time (ms) from Docker's timestamp; the decoder's clock when a line has none */
  at: string;
  text: string;
}

const HEADER = 8;
// RFC 3339 with nanoseconds, trailing zeros trimmed: 2024-05-01T10:00:00.123456789Z
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) /;

/** Docker's `timestamps=1` prefix parsed to an ISO time in ms, and the rest of the line. */
export function splitTimestamp(line: string, fallback: () => string): { at: string; text: string } {
  const m = TIMESTAMP.exec(line);
  if (!m) return { at: fallback(), text: line };
  const ms = Date.parse(`${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}${m[3]}`);
  return Number.isNaN(ms) ? { at: fallback(), text: line } : { at: new Date(ms).toISOString(), text: line.slice(m[0].length) };
}

/**
 * Splits the multiplexed (non-TTY) stream: frames of an 8-byte header [stream 1|2, 0, 0, 0, size
 * uint32 BE] and `size` bytes. A stream whose first bytes are not such a header (a TTY container)
 * is read as plain stdout. Lines end at `\n` (a `\r` before it is dropped); a line longer than
 * `maxLineChars` is cut into pieces of that length, so no line and no buffer grows past it.
 */
export class DockerLogDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private current: LogStreamName = 'stdout';
  private raw: boolean | undefined;
  private readonly text = { stdout: '', stderr: '' };
  private readonly utf8 = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  constructor(
    private readonly maxLineChars = MAX_LINE_CHARS,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {}

  push(data: Buffer): DecodedLine[] {
    const out: DecodedLine[] = [];
    if (this.raw === undefined) {
      this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
      if (this.pending.length < HEADER) return out;
      const h = this.pending;
      this.raw = !((h[0] === 1 || h[0] === 2) && h[1] === 0 && h[2] === 0 && h[3] === 0);
      data = this.pending;
      this.pending = Buffer.alloc(0);
    }
    if (this.raw) {
      this.append('stdout', data, out);
      return out;
    }
    let at = 0;
    while (at < data.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, data.length - at);
        this.append(this.current, data.subarray(at, at + take), out);
        this.remaining -= take;
        at += take;
        continue;
      }
      // A header split across reads waits for its other bytes (at most 7 are held).
      const need = HEADER - this.pending.length;
      const part = data.subarray(at, at + need);
      this.pending = this.pending.length ? Buffer.concat([this.pending, part]) : Buffer.from(part);
      at += part.length;
      if (this.pending.length < HEADER) break;
      this.current = this.pending[0] === 2 ? 'stderr' : 'stdout';
      this.remaining = this.pending.readUInt32BE(4);
      this.pending = Buffer.alloc(0);
    }
    return out;
  }

  /** The stream ended: whatever partial lines are left, as lines. */
  end(): DecodedLine[] {
    const out: DecodedLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.text[stream] + this.utf8[stream].end();
      this.text[stream] = '';
      if (rest.length > 0) this.emit(stream, rest.endsWith('\r') ? rest.slice(0, -1) : rest, out);
    }
    return out;
  }

  private append(stream: LogStreamName, bytes: Buffer, out: DecodedLine[]): void {
    let text = this.text[stream] + this.utf8[stream].write(bytes);
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      const line = text.slice(0, nl);
      this.emit(stream, line.endsWith('\r') ? line.slice(0, -1) : line, out);
      text = text.slice(nl + 1);
    }
    // An endless line without a newline is emitted in pieces rather than held. The timestamp
    // prefix (at most 36 characters) is allowed for, so a piece never exceeds the limit once parsed.
    const hold = this.maxLineChars + 36;
    while (text.length > hold) {
      this.emit(stream, text.slice(0, hold), out);
      text = text.slice(hold);
    }
    this.text[stream] = text;
  }

  private emit(stream: LogStreamName, line: string, out: DecodedLine[]): void {
    const { at, text } = splitTimestamp(line, this.now);
    if (text.length <= this.maxLineChars) {
      out.push({ stream, at, text });
      return;
    }
    for (let i = 0; i < text.length; i += this.maxLineChars) out.push({ stream, at, text: text.slice(i, i + this.maxLineChars) });
  }
}
