import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBuildLog, LINE_CHARS } from './build-log';

describe('createBuildLog', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('batches lines, joins partial writes, strips colour codes and caps line length', () => {
    const frames: string[][] = [];
    const log = createBuildLog((l) => frames.push(l));
    log.write('Step 1/2 : FROM x\nStep 2');
    log.write('/2 : RUN \x1b[31mmake\x1b[0m\n');
    log.line('x'.repeat(LINE_CHARS + 50));
    expect(frames).toEqual([]);
    vi.advanceTimersByTime(250);
    expect(frames).toEqual([['Step 1/2 : FROM x', 'Step 2/2 : RUN make', 'x'.repeat(LINE_CHARS)]]);
  });

  it('stops sending after the cap but keeps the last lines for failure messages', () => {
    const frames: string[][] = [];
    const log = createBuildLog((l) => frames.push(l), 5);
    for (let i = 0; i < 300; i++) log.line(`line ${i}`);
    log.flush();
    const sent = frames.flat();
    expect(sent).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4', '… log truncated after 5 lines; the build goes on']);
    expect(log.tail(2)).toEqual(['line 298', 'line 299']);
  });

  it('never sends more than 256 lines in one frame', () => {
    const frames: string[][] = [];
    const log = createBuildLog((l) => frames.push(l));
    log.write(`${Array.from({ length: 600 }, (_, i) => `l${i}`).join('\n')}\n`);
    log.flush();
    expect(frames.map((f) => f.length)).toEqual([256, 256, 88]);
  });
});
