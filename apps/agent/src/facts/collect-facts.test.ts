import { describe, expect, it } from 'vitest';
import { filesystemFor } from './collect-facts';

describe('filesystemFor', () => {
  const fss = [{ mount: '/' }, { mount: '/var' }, { mount: '/var/lib/docker' }, { mount: '/variant' }];
  it('picks the longest mount containing the path', () => {
    expect(filesystemFor('/var/lib/docker', fss)?.mount).toBe('/var/lib/docker');
    expect(filesystemFor('/var/lib/other', fss)?.mount).toBe('/var');
    expect(filesystemFor('/variant-x', fss)?.mount).toBe('/');
    expect(filesystemFor('/home', [{ mount: '/home2' }])).toBeUndefined();
  });
});
