// The build log as it leaves the agent: lines batched into progress frames (at most every
// FLUSH_MS, at most MAX_LINES_PER_FRAME per frame), each line capped, the total capped (a build
// that prints forever cannot flood the control plane), and the last lines kept for the failure
// message whatever the cap.
import { MAX_LINE_CHARS, MAX_LINES_PER_FRAME } from '@karvon/protocol';

export const FLUSH_MS = 200;
export const LINE_CHARS = Math.min(MAX_LINE_CHARS, 2000);
export const DEFAULT_MAX_LINES = 10_000;
const TAIL = 30;

export interface BuildLog {
  /** Adds output text (may hold several lines, or a partial one that the next call ends). */
  write(text: string): void;
  /** A line of our own (phase headers, notes). */
  line(text: string): void;
  /** The last `n` lines written, for failure messages. */
  tail(n?: number): string[];
  /** Sends what is pending now (before the result is sent). */
  flush(): void;
}

export function createBuildLog(progress: (lines: string[]) => void, maxLines = DEFAULT_MAX_LINES): BuildLog {
  const pending: string[] = [];
  let partial = '';
  let sent = 0;
  let truncated = false;
  let timer: NodeJS.Timeout | undefined;
  const last: string[] = [];

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    while (pending.length > 0) progress(pending.splice(0, MAX_LINES_PER_FRAME));
  };
  const add = (raw: string) => {
    // eslint-disable-next-line no-control-regex
    const text = raw.replace(/\r$/, '').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').slice(0, LINE_CHARS);
    last.push(text);
    if (last.length > TAIL) last.shift();
    if (sent >= maxLines) {
      if (!truncated) {
        truncated = true;
        pending.push(`… log truncated after ${maxLines} lines; the build goes on`);
      }
    } else {
      sent += 1;
      pending.push(text);
    }
    if (pending.length >= MAX_LINES_PER_FRAME) flush();
    else timer ??= setTimeout(flush, FLUSH_MS);
  };
  return {
    write(text) {
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) add(p);
      if (partial.length > LINE_CHARS) {
        add(partial);
        partial = '';
      }
    },
    line: (text) => add(text),
    tail: (n = TAIL) => last.slice(-n),
    flush() {
      if (partial) {
        add(partial);
        partial = '';
      }
      flush();
    },
  };
}
