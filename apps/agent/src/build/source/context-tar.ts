// The build context as a tar stream for POST /build: the scanned entries (never re-reading the
// tree, so what was checked is what is sent) plus files from memory (the generated Dockerfile).
// ustar headers, pax headers for long names; ownership root, fixed mtime (reproducible context).
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ContextEntry } from './scan-source';

export type TarInput = ContextEntry | { type: 'memory'; path: string; mode: number; content: Buffer };

const BLOCK = 512;
const MTIME = 1_700_000_000;

export function contextTar(entries: readonly TarInput[]): Readable {
  return Readable.from(chunks(entries));
}

async function* chunks(entries: readonly TarInput[]): AsyncGenerator<Buffer> {
  for (const e of entries) {
    if (e.type === 'dir') yield* header(`${e.path}/`, '5', 0, e.mode, '');
    else if (e.type === 'symlink') yield* header(e.path, '2', 0, 0o777, e.target);
    else if (e.type === 'memory') {
      yield* header(e.path, '0', e.content.length, e.mode, '');
      yield e.content;
      yield pad(e.content.length);
    } else {
      yield* header(e.path, '0', e.size, e.mode, '');
      let written = 0;
      for await (const chunk of createReadStream(e.source) as AsyncIterable<Buffer>) {
        const part = chunk.subarray(0, Math.max(0, e.size - written));
        written += part.length;
        if (part.length) yield part;
      }
      if (written !== e.size) throw new Error(`${e.path} changed size while the context was sent`);
      yield pad(e.size);
    }
  }
  yield Buffer.alloc(BLOCK * 2);
}

function pad(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

function* header(name: string, type: '0' | '2' | '5', size: number, mode: number, linkname: string): Generator<Buffer> {
  const nameBytes = Buffer.byteLength(name);
  const linkBytes = Buffer.byteLength(linkname);
  if (nameBytes > 100 || linkBytes > 100) {
    const records = [...(nameBytes > 100 ? [paxRecord('path', name)] : []), ...(linkBytes > 100 ? [paxRecord('linkpath', linkname)] : [])];
    const body = Buffer.concat(records);
    yield block('PaxHeader', 'x', body.length, 0o644, '');
    yield body;
    yield pad(body.length);
  }
  yield block(truncate(name, 100), type, size, mode, truncate(linkname, 100));
}

function paxRecord(key: string, value: string): Buffer {
  const text = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(text);
  len += String(len).length;
  if (String(len).length !== String(len - String(len).length).length) len += 1;
  return Buffer.from(`${len}${text}`);
}

function truncate(s: string, max: number): string {
  let b = Buffer.from(s);
  if (b.length <= max) return s;
  b = b.subarray(0, max);
  return b.toString('utf8').replace(/\uFFFD+$/, '');
}

function block(name: string, type: string, size: number, mode: number, linkname: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(MTIME, 12), 136, 12, 'ascii');
  h.fill(' ', 148, 156);
  h.write(type, 156, 1, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return h;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\u0000`;
}
