import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextTar } from './context-tar';

describe('contextTar', () => {
  it('writes files, dirs, links, long names and in-memory files that tar(1) extracts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'karvon-tar-'));
    try {
      const src = path.join(dir, 'a.txt');
      await writeFile(src, 'hello\n');
      const long = `${'d'.repeat(90)}/${'f'.repeat(60)}.txt`;
      const chunks: Buffer[] = [];
      for await (const c of contextTar([
        { type: 'file', path: 'a.txt', mode: 0o644, size: 6, source: src },
        { type: 'dir', path: 'd'.repeat(90), mode: 0o755 },
        { type: 'memory', path: long, mode: 0o600, content: Buffer.from('long\n') },
        { type: 'symlink', path: 'link', target: 'a.txt' },
        { type: 'memory', path: '.karvon.Dockerfile', mode: 0o644, content: Buffer.from('FROM x\n') },
      ]) as AsyncIterable<Buffer>) chunks.push(c);
      const archive = path.join(dir, 'c.tar');
      await writeFile(archive, Buffer.concat(chunks));
      const out = path.join(dir, 'out');
      execFileSync('mkdir', [out]);
      execFileSync('tar', ['-xf', archive, '-C', out]);
      expect(await readFile(path.join(out, 'a.txt'), 'utf8')).toBe('hello\n');
      expect(await readFile(path.join(out, long), 'utf8')).toBe('long\n');
      expect(await readlink(path.join(out, 'link'))).toBe('a.txt');
      expect(await readFile(path.join(out, '.karvon.Dockerfile'), 'utf8')).toBe('FROM x\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
