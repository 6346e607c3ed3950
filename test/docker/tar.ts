// A minimal streaming tar (ustar + pax) writer: enough to feed `POST /images/create?fromSrc=-`
// (docker import) from Node without a tar package or a shell. Regular files (from memory or
// streamed from a host path), directories and symlinks; long paths and link targets fall back to
// pax extended headers. Ownership is numeric only (no uname/gname), which is what docker import uses.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';

interface EntryBase {
  /** Path inside the archive; a leading `/` is dropped, so absolute image paths are fine. */
  path: string;
  /** Permission bits including setuid/setgid/sticky (e.g. 0o1777). */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; defaults to a fixed time so archives are reproducible. */
  mtime?: number;
}

export type TarEntry =
  | (EntryBase & { type: 'dir' })
  | (EntryBase & { type: 'file'; content: Buffer | string })
  /** A regular file whose bytes are streamed from `source` on the host (symlinks followed). */
  | (EntryBase & { type: 'file'; source: string })
  | (EntryBase & { type: 'symlink'; target: string });

const BLOCK = 512;
const DEFAULT_MTIME = 1_700_000_000;
const READ_CHUNK = 1 << 20;
const SMALL_FILE = 4 << 20;
const PREFETCH = 64;
const COALESCE_BYTES = 256 << 10;

/** A readable tar stream of `entries` (consumed lazily, so an async generator keeps memory flat). */
export function tarStream(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Readable {
  return Readable.from(coalesce(tarChunks(entries)), { objectMode: false });
}

/** The whole archive in memory (for small archives and tests). */
export async function tarBuffer(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of coalesce(tarChunks(entries))) parts.push(chunk);
  return Buffer.concat(parts);
}

async function* tarChunks(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const { entry, size, data } of prepared(entries)) {
    const name = archiveName(entry);
    const mode = entry.mode ?? (entry.type === 'dir' ? 0o755 : entry.type === 'symlink' ? 0o777 : 0o644);
    const common = { mode, uid: entry.uid ?? 0, gid: entry.gid ?? 0, mtime: entry.mtime ?? DEFAULT_MTIME };
    switch (entry.type) {
      case 'dir':
        yield* headerBlocks({ ...common, name, type: '5', size: 0, linkname: '' });
        break;
      case 'symlink':
        yield* headerBlocks({ ...common, name, type: '2', size: 0, linkname: entry.target });
        break;
      case 'file':
        yield* headerBlocks({ ...common, name, type: '0', size, linkname: '' });
        if (data) yield data;
        else if ('source' in entry) {
          let written = 0;
          for await (const chunk of createReadStream(entry.source, { highWaterMark: READ_CHUNK }) as AsyncIterable<Buffer>) {
            written += chunk.length;
            if (written > size) break;
            yield chunk;
          }
          if (written !== size) throw new Error(`tar: ${entry.source} changed size while being archived`);
        }
        yield padding(size);
        break;
    }
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** Joins the many small pieces (headers, small files, padding) into fewer, larger writes. */
async function* coalesce(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    if (chunk.length >= COALESCE_BYTES) {
      if (pendingBytes > 0) yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      yield chunk;
      continue;
    }
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= COALESCE_BYTES) {
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

interface Prepared {
  entry: TarEntry;
  size: number;
  /** The file's bytes, when small enough to read whole (big host files are streamed instead). */
  data?: Buffer;
}

/**
 * Entries with their sizes and small files' bytes, read up to PREFETCH entries ahead: a tree of
 * thousands of small files is bound by file-system round trips, not bytes, so they overlap.
 */
async function* prepared(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): AsyncGenerator<Prepared> {
  const source = Symbol.asyncIterator in entries ? entries[Symbol.asyncIterator]() : entries[Symbol.iterator]();
  const queue: Promise<Prepared>[] = [];
  let exhausted = false;
  for (;;) {
    while (!exhausted && queue.length < PREFETCH) {
      const next = await source.next();
      if (next.done) exhausted = true;
      else {
        const p = prepare(next.value);
        p.catch(() => undefined); // rejections surface when this entry's turn comes
        queue.push(p);
      }
    }
    const head = queue.shift();
    if (!head) return;
    yield await head;
  }
}

async function prepare(entry: TarEntry): Promise<Prepared> {
  if (entry.type !== 'file') return { entry, size: 0 };
  if ('content' in entry) {
    const data = typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content;
    return { entry, size: data.length, data };
  }
  const { size } = await stat(entry.source);
  if (size > SMALL_FILE) return { entry, size };
  const data = await readFile(entry.source);
  if (data.length !== size) throw new Error(`tar: ${entry.source} changed size while being archived`);
  return { entry, size, data };
}

function archiveName(entry: TarEntry): string {
  const p = entry.path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!p || p.split('/').some((s) => s === '' || s === '..')) throw new Error(`tar: bad path ${JSON.stringify(entry.path)}`);
  return entry.type === 'dir' ? `${p}/` : p;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

interface Header {
  name: string;
  type: '0' | '2' | '5' | 'x';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
}

/** The ustar header for `h`, preceded by a pax header when the name or link target do not fit. */
function* headerBlocks(h: Header): Generator<Buffer> {
  const pax: Record<string, string> = {};
  let split = splitUstarName(h.name);
  if (!split) {
    pax.path = h.name;
    split = { prefix: '', name: asciiTruncate(h.name.replace(/\/$/, '').split('/').pop() ?? 'x', 99) };
  }
  let linkname = h.linkname;
  if (!fitsAscii(linkname, 100)) {
    pax.linkpath = linkname;
    linkname = '';
  }
  if (Object.keys(pax).length > 0) {
    const body = paxRecords(pax);
    yield ustarHeader({ ...h, type: 'x', size: body.length, linkname: '', mode: 0o644 }, { prefix: '', name: 'PaxHeader' });
    yield body;
    yield padding(body.length);
  }
  yield ustarHeader({ ...h, linkname }, split);
}

function fitsAscii(s: string, max: number): boolean {
  return Buffer.byteLength(s) <= max && /^[\x20-\x7e]*$/.test(s);
}

function asciiTruncate(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, max);
}

function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (!fitsAscii(name, 256)) return undefined;
  if (name.length <= 100) return { prefix: '', name };
  // Split at a '/' so the prefix fits 155 bytes and the rest 100 (a directory's trailing '/' stays in the rest).
  for (let i = name.indexOf('/'); i !== -1 && i < name.length - 1; i = name.indexOf('/', i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100) return { prefix: name.slice(0, i), name: name.slice(i + 1) };
  }
  return undefined;
}

function paxRecords(fields: Record<string, string>): Buffer {
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    const payload = ` ${key}=${value}\n`;
    const payloadBytes = Buffer.byteLength(payload);
    // The record length counts its own decimal digits.
    let len = payloadBytes + 1;
    while (String(len).length + payloadBytes !== len) len = String(len).length + payloadBytes;
    out += `${len}${payload}`;
  }
  return Buffer.from(out);
}

function ustarHeader(h: Header, split: { prefix: string; name: string }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(split.name, 0, 100, 'ascii');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, Math.floor(h.mtime));
  b.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  b.write(h.type, 156, 1, 'ascii');
  b.write(h.linkname, 157, 100, 'ascii');
  b.write('ustar\u000000', 257, 8, 'ascii');
  b.write(split.prefix, 345, 155, 'ascii');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return b;
}

function octal(b: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8);
  if (!Number.isSafeInteger(value) || value < 0 || digits.length > width - 1) {
    throw new Error(`tar: value ${value} does not fit a ${width}-byte field`);
  }
  b.write(`${digits.padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}
