// Lines → log-chunk batches, and the two bounds on sending them. Pure: the stream-logs task
// (stream-logs-task.ts) feeds lines in, asks what may be sent now, and sends it.
import { LOG_STREAM_WINDOW_CHUNKS, MAX_LINES_PER_FRAME } from '@karvon/protocol';
import type { DecodedLine, LogStreamName } from './docker-log-decoder';

export interface Batch {
  stream: LogStreamName;
  lines: Array<{ at: string; text: string }>;
}

interface OpenBatch extends Batch {
  chars: number;
  openedAt: number;
}

/**
 * Fills one open batch per stream (a chunk carries one stream; each line keeps its own time, so a
 * reader can merge the two by `at`). A batch closes when it holds `maxLines` lines or `maxChars`
 * characters (a frame stays far below the 4 MiB frame limit even when every character is escaped
 * or 3 bytes of UTF-8), or `lingerMs` after its first line, or when the stream ends. Closed
 * batches leave in the order they closed, so each stream's lines stay in order.
 */
export class LogBatcher {
  private readonly open = new Map<LogStreamName, OpenBatch>();
  private readonly closed: Batch[] = [];

  constructor(private readonly opts: { maxLines?: number; maxChars?: number; lingerMs: number }) {}

  add(line: DecodedLine, now: number): void {
    let b = this.open.get(line.stream);
    if (!b) {
      b = { stream: line.stream, lines: [], chars: 0, openedAt: now };
      this.open.set(line.stream, b);
    }
    b.lines.push({ at: line.at, text: line.text });
    b.chars += line.text.length;
    if (b.lines.length >= (this.opts.maxLines ?? MAX_LINES_PER_FRAME) || b.chars >= (this.opts.maxChars ?? 512 * 1024)) this.close(line.stream);
  }

  /** Closes batches older than the linger time (all of them when `all`, at the end of a stream). */
  closeDue(now: number, all = false): void {
    const due = [...this.open.values()].filter((b) => all || now - b.openedAt >= this.opts.lingerMs).sort((a, b) => a.openedAt - b.openedAt);
    for (const b of due) this.close(b.stream);
  }

  /** The oldest closed batch, removed. */
  take(): Batch | undefined {
    return this.closed.shift();
  }

  get closedCount(): number {
    return this.closed.length;
  }

  /** When the oldest open batch is due to close, if any is open. */
  nextDueAt(): number | undefined {
    let at: number | undefined;
    for (const b of this.open.values()) at = at === undefined ? b.openedAt + this.opts.lingerMs : Math.min(at, b.openedAt + this.opts.lingerMs);
    return at;
  }

  private close(stream: LogStreamName): void {
    const b = this.open.get(stream);
    if (!b) return;
    this.open.delete(stream);
    this.closed.push({ stream: b.stream, lines: b.lines });
  }
}

/**
 * Sequence numbers and credit for one stream: at most `size` chunks sent beyond the last credit.
 * A credit only moves forward and never past what was sent (a confused or replayed credit cannot
 * open the window wider than `size`).
 */
export class CreditWindow {
  private next = 0;
  private credited = -1;
  private peak = 0;

  constructor(readonly size: number = LOG_STREAM_WINDOW_CHUNKS) {}

  get inFlight(): number {
    return this.next - 1 - this.credited;
  }

  /** The most chunks ever in flight at once (reported in the task result). */
  get maxInFlight(): number {
    return this.peak;
  }

  get sent(): number {
    return this.next;
  }

  canSend(): boolean {
    return this.inFlight < this.size;
  }

  /** Takes the next sequence number; call only when canSend(). */
  take(): number {
    if (!this.canSend()) throw new Error('credit window is full');
    const seq = this.next++;
    this.peak = Math.max(this.peak, this.inFlight);
    return seq;
  }

  /** Returns true if the credit opened the window further. */
  credit(upToSeq: number): boolean {
    const to = Math.min(upToSeq, this.next - 1);
    if (to <= this.credited) return false;
    this.credited = to;
    return true;
  }
}

/**
 * One token bucket for every log stream of this agent: the hub closes a socket that sends more
 * than its flood limit (20 frames/s, burst 200), which heartbeats and task frames share.
 */
export class FramePacer {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }

  ready(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  take(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }

  /** Milliseconds until a token is available. */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }
}
