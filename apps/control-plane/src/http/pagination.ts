// Keyset pagination for lists (API.md: `?limit=` ≤ 200 and `?cursor=`, answered with
// `{items, nextCursor}`). The cursor is the (created_at, id) of the last item, opaque to clients,
// so pages stay stable while rows are added.
import { z } from 'zod';
import { DomainError } from '../domain/errors';

export const MAX_PAGE = 200;

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'a cursor from a previous page')
    .optional(),
});

export type PageQuery = z.infer<typeof pageQuery>;

export interface Cursor {
  at: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id])).toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) {
      return { at: v[0], id: v[1] };
    }
  } catch {
    // falls through to the validation error
  }
  throw DomainError.validation([{ path: 'cursor', message: 'a cursor from a previous page' }]);
}

/** Rows were fetched with limit + 1, newest first: the extra row only says another page exists. */
export function toPage<Row extends { created_at: Date | string; id: string }, Item>(
  rows: readonly Row[],
  limit: number,
  view: (row: Row) => Item,
): { items: Item[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const more = rows.length > limit && last !== undefined;
  return {
    items: page.map(view),
    nextCursor: more ? encodeCursor({ at: new Date(last.created_at).toISOString(), id: last.id }) : null,
  };
}
