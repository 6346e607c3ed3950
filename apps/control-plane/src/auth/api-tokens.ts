import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import { hashSecret, newSecret } from './secret-tokens';
import type { User } from './users';

export interface ApiTokenView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

interface ApiTokenRow {
  id: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

const view = (r: ApiTokenRow): ApiTokenView => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at.toISOString(),
  lastUsedAt: r.last_used_at ? r.last_used_at.toISOString() : null,
});

export async function createApiToken(db: Db, userId: string, name: string): Promise<ApiTokenView & { token: string }> {
  const token = newSecret('kvt');
  const [row] = await db('api_tokens')
    .insert({ id: newId('tok'), user_id: userId, name, token_hash: hashSecret(token) })
    .returning<ApiTokenRow[]>(['id', 'name', 'created_at', 'last_used_at']);
  return { ...view(row!), token };
}

export async function listApiTokens(db: Db, userId: string): Promise<ApiTokenView[]> {
  const rows = await db('api_tokens')
    .where({ user_id: userId })
    .whereNull('revoked_at')
    .orderBy('created_at', 'desc')
    .select<ApiTokenRow[]>('id', 'name', 'created_at', 'last_used_at');
  return rows.map(view);
}

export async function revokeApiToken(db: Db, userId: string, id: string): Promise<void> {
  const n = await db('api_tokens').where({ id, user_id: userId }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
  if (n === 0) throw new DomainError('NOT_FOUND', 'api token not found');
}

/** The live token with this hash and its user (the token's id too, so a revocation can name it). */
export async function apiTokenOwner(db: Db, tokenHash: string): Promise<(User & { tokenId: string }) | undefined> {
  const row = await db('api_tokens as t')
    .join('users as u', 'u.id', 't.user_id')
    .where('t.token_hash', tokenHash)
    .whereNull('t.revoked_at')
    .first<(User & { token_id: string }) | undefined>('u.id', 'u.email', 'u.role', 't.id as token_id');
  if (!row) return undefined;
  // A coarse last-use stamp (to the minute), so a busy token does not write on every request.
  await db('api_tokens')
    .where({ id: row.token_id })
    .where((q) => void q.whereNull('last_used_at').orWhere('last_used_at', '<', db.raw(`now() - interval '1 minute'`)))
    .update({ last_used_at: db.fn.now() });
  return { id: row.id, email: row.email, role: row.role, tokenId: row.token_id };
}
