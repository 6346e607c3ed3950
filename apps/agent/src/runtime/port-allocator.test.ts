import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPortAllocator, PortsExhaustedError } from './port-allocator';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const stateDir = async () => {
  const d = await mkdtemp(path.join(tmpdir(), 'karvon-ports-'));
  dirs.push(d);
  return d;
};

describe('port allocator', () => {
  it('is idempotent per allocation and survives a restart', async () => {
    const dir = await stateDir();
    const ports = createPortAllocator(dir, { min: 30000, max: 30009 });
    await ports.load();
    expect(await ports.acquire('a')).toBe(30000);
    expect(await ports.acquire('b')).toBe(30001);
    expect(await ports.acquire('a')).toBe(30000);
    const again = createPortAllocator(dir, { min: 30000, max: 30009 });
    await again.load();
    expect([again.get('a'), again.get('b')]).toEqual([30000, 30001]);
    expect(await again.acquire('c')).toBe(30002);
  });

  it('hands out released ports last (round robin), and fails clearly when full', async () => {
    const ports = createPortAllocator(await stateDir(), { min: 30000, max: 30002 });
    await ports.load();
    await ports.acquire('a');
    await ports.acquire('b');
    await ports.release('a');
    expect(await ports.acquire('c')).toBe(30002);
    expect(await ports.acquire('d')).toBe(30000);
    await expect(ports.acquire('e')).rejects.toBeInstanceOf(PortsExhaustedError);
  });

  it('moves an allocation off a port taken outside Karvon, and adopts ports found on containers', async () => {
    const ports = createPortAllocator(await stateDir(), { min: 30000, max: 30009 });
    await ports.load();
    await ports.acquire('a');
    expect(await ports.reassign('a')).toBe(30001);
    await ports.release('a');
    expect(await ports.acquire('b')).toBe(30002);
    await ports.adopt('c', 30005);
    expect(ports.all()).toEqual(new Map([['b', 30002], ['c', 30005]]));
  });
});
