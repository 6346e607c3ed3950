import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageQuery, toPage } from './pagination';

describe('pagination', () => {
  it('round-trips a cursor', () => {
    const c = { at: '2026-11-28T10:00:00.000Z', id: 'app_x' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
  });

  it.each(['bm90IGpzb24', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["not a date","x"]').toString('base64url')])(
    'refuses a forged cursor %s naming the field',
    (raw) => {
      expect(() => decodeCursor(raw)).toThrow(/cursor/);
    },
  );

  it('limits pages to 200 and defaults to 50', () => {
    expect(pageQuery.parse({}).limit).toBe(50);
    expect(pageQuery.safeParse({ limit: '201' }).success).toBe(false);
    expect(pageQuery.safeParse({ limit: '0' }).success).toBe(false);
    expect(pageQuery.parse({ limit: '200' }).limit).toBe(200);
  });

  it('gives a next cursor only when an extra row came back', () => {
    const rows = [1, 2, 3].map((i) => ({ id: `r${i}`, created_at: new Date(Date.UTC(2026, 0, i)) }));
    const full = toPage(rows, 2, (r) => r.id);
    expect(full.items).toEqual(['r1', 'r2']);
    expect(decodeCursor(full.nextCursor!)).toEqual({ at: '2026-01-02T00:00:00.000Z', id: 'r2' });
    expect(toPage(rows, 3, (r) => r.id).nextCursor).toBeNull();
  });
});
