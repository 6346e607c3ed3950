// The tar writer behind the test base images, checked by extracting its output with GNU tar.
import { execFile as execFileCb } from 'node:child_process';
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarBuffer, tarStream, type TarEntry } from '../../../test/docker/tar';

const execFile = promisify(execFileCb);

describe('tar writer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'karvon-tar-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function extract(archive: Buffer, name: string): Promise<string> {
    const file = path.join(dir, `${name}.tar`);
    const out = path.join(dir, name);
    await writeFile(file, archive);
    await execFile('mkdir', ['-p', out]);
    // --numeric-owner/--same-permissions as root: what docker import does with the headers.
    await execFile('tar', ['-x', '-p', '--numeric-owner', '-f', file, '-C', out]);
    return out;
  }

  it('writes directories, files, symlinks and modes that GNU tar reads back', async () => {
    const host = path.join(dir, 'host-file');
    const bigBytes = Buffer.alloc((5 << 20) + 123, 7); // above the read-whole limit: streamed, partial last block
    await writeFile(host, bigBytes);
    const small = path.join(dir, 'small-file');
    await writeFile(small, 'small\n');
    const entries: TarEntry[] = [
      { type: 'dir', path: '/bin' },
      { type: 'file', path: '/bin/tool', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      { type: 'file', path: '/data/empty', content: '' },
      { type: 'file', path: '/data/big', source: host, mode: 0o600 },
      { type: 'file', path: '/data/small', source: small },
      { type: 'symlink', path: '/bin/alias', target: 'tool' },
      { type: 'dir', path: '/tmp', mode: 0o1777 },
      { type: 'dir', path: '/home/node', uid: 1000, gid: 1000 },
    ];
    const archive = await tarBuffer(entries);
    expect(archive.length % 512).toBe(0);
    const out = await extract(archive, 'basic');
    expect(await readFile(path.join(out, 'bin/tool'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect((await lstat(path.join(out, 'bin/tool'))).mode & 0o7777).toBe(0o755);
    expect((await readFile(path.join(out, 'data/empty'))).length).toBe(0);
    expect((await readFile(path.join(out, 'data/big'))).equals(bigBytes)).toBe(true);
    expect(await readFile(path.join(out, 'data/small'), 'utf8')).toBe('small\n');
    expect((await lstat(path.join(out, 'data/big'))).mode & 0o7777).toBe(0o600);
    expect(await readlink(path.join(out, 'bin/alias'))).toBe('tool');
    expect((await lstat(path.join(out, 'tmp'))).mode & 0o7777).toBe(0o1777);
    const home = await lstat(path.join(out, 'home/node'));
    expect([home.uid, home.gid]).toEqual([1000, 1000]);
    const { stdout } = await execFile('tar', ['-t', '-f', path.join(dir, 'basic.tar')]);
    expect(stdout.split('\n').filter(Boolean)).toEqual(['bin/', 'bin/tool', 'data/empty', 'data/big', 'data/small', 'bin/alias', 'tmp/', 'home/node/']);
  });

  it('splits long paths into the ustar prefix and uses pax headers beyond that', async () => {
    const seg = 'd'.repeat(60);
    const splitPath = `${seg}/${seg}/${seg}/file.js`; // 185 bytes: fits prefix + name
    const paxPath = `${'e'.repeat(120)}/${'f'.repeat(120)}.js`; // last part too long for ustar
    const longTarget = `../${'t'.repeat(150)}/target`;
    const unicode = 'data/ünïcødé.txt';
    const archive = await tarBuffer([
      { type: 'file', path: splitPath, content: 'split' },
      { type: 'file', path: paxPath, content: 'pax' },
      { type: 'symlink', path: 'link', target: longTarget },
      { type: 'file', path: unicode, content: 'utf8' },
    ]);
    const out = await extract(archive, 'long');
    expect(await readFile(path.join(out, splitPath), 'utf8')).toBe('split');
    expect(await readFile(path.join(out, paxPath), 'utf8')).toBe('pax');
    expect(await readlink(path.join(out, 'link'))).toBe(longTarget);
    expect(await readFile(path.join(out, unicode), 'utf8')).toBe('utf8');
  });

  it('streams the same bytes as the buffered form and rejects bad paths', async () => {
    const entries: TarEntry[] = [{ type: 'file', path: 'a/b', content: 'x'.repeat(1000) }];
    const chunks: Buffer[] = [];
    for await (const c of tarStream(entries)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks)).toEqual(await tarBuffer(entries));
    await expect(tarBuffer([{ type: 'file', path: '../etc/passwd', content: '' }])).rejects.toThrow(/bad path/);
  });
});
