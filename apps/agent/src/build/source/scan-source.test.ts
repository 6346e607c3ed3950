import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanSource, symlinkTargetInside } from './scan-source';

describe('symlinkTargetInside', () => {
  it.each([
    ['a', 'b', 'b'],
    ['dir/a', '../b', 'b'],
    ['dir/a', './x/../y', 'dir/y'],
    ['a', '.', '.'],
  ])('%s -> %s stays inside (%s)', (link, target, resolved) => expect(symlinkTargetInside(link, target)).toBe(resolved));

  it.each([
    ['a', '/etc/passwd'],
    ['a', '..'],
    ['a', '../x'],
    ['dir/a', '../../x'],
    ['dir/a', 'x/../../../y'],
    ['Procfile', '../../../../etc/passwd'],
  ])('%s -> %s leaves the repository', (link, target) => expect(symlinkTargetInside(link, target)).toBeUndefined());
});

describe('scanSource', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function repo(files: Record<string, string | { link: string }>): Promise<string> {
    dir = await mkdtemp(path.join(tmpdir(), 'karvon-scan-'));
    for (const [p, v] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
      if (typeof v === 'string') await writeFile(path.join(dir, p), v);
      else await symlink(v.link, path.join(dir, p));
    }
    return dir;
  }

  it('lists the context without .git, reads detection files, keeps inside links', async () => {
    const root = await repo({ '.git/HEAD': 'x', 'package.json': '{"main":"a.js"}', 'src/a.js': '1', 'Procfile': { link: 'procs/web' }, 'procs/web': 'web: node a.js', 'alias.js': { link: 'src/a.js' } });
    const s = await scanSource(root, { maxBytes: 1e6 });
    expect(s.entries.map((e) => `${e.type}:${e.path}`)).toEqual(['symlink:Procfile', 'symlink:alias.js', 'file:package.json', 'dir:procs', 'file:procs/web', 'dir:src', 'file:src/a.js']);
    expect(s.listing.contents).toEqual({ 'package.json': '{"main":"a.js"}', Procfile: 'web: node a.js' });
  });

  it.each([
    ['a Dockerfile linked to a host file', { Dockerfile: { link: '/etc/passwd' } }],
    ['a Procfile linked up and out', { Procfile: { link: '../../../etc/passwd' } }],
    ['a directory link out, deep in the tree', { 'a/b/c': { link: '../../../..' } }],
    ['a link through a link out', { up: { link: '.' }, 'x': { link: 'up/../..' } }],
  ] as const)('refuses %s with UNSAFE_SOURCE', async (_name, files) => {
    const root = await repo({ 'index.html': 'x', ...files });
    await expect(scanSource(root, { maxBytes: 1e6 })).rejects.toMatchObject({ code: 'UNSAFE_SOURCE', message: expect.stringContaining('outside the repository') as unknown });
  });

  it('refuses a repository over the size cap', async () => {
    const root = await repo({ big: 'x'.repeat(2000) });
    await expect(scanSource(root, { maxBytes: 1000 })).rejects.toMatchObject({ code: 'BUILD_FAILED' });
  });
});
