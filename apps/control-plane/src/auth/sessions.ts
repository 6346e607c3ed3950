import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import type { TokenSigner } from './jwt';
import { verifyPassword } from './passwords';
import { hashSecret, newSecret } from './secret-tokens';
import { findUserByEmail, findUserById, publicUser, type Role, type User } from './users';

export interface UserClaims extends Record<string, unknown> {
  role: Role;
}

export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
}

export interface Sessions {
  issue(user: User, familyId?: string): Promise<SessionTokens>;
  login(email: string, password: string): Promise<{ user: User } & SessionTokens>;
  refresh(refreshToken: string): Promise<SessionTokens>;
  logout(refreshToken: string): Promise<void>;
}

/**
 * Access tokens are short-lived JWTs; refresh tokens are opaque, stored hashed, single use and
 * rotated. They belong to a family (one login); presenting a used one means it was stolen or
 * replayed, so the whole family is revoked.
 */
export function createSessions(deps: { db: Db; signer: TokenSigner<UserClaims>; refreshTokenDays: number }): Sessions {
  const { db, signer } = deps;

  async function issue(user: User, familyId = newId('fam')): Promise<SessionTokens> {
    const refreshToken = newSecret('kvr');
    await db('refresh_tokens').insert({
      id: newId('rft'),
      user_id: user.id,
      family_id: familyId,
      token_hash: hashSecret(refreshToken),
      expires_at: db.raw(`now() + make_interval(days => ?)`, [deps.refreshTokenDays]),
    });
    const { token } = await signer.sign(user.id, { role: user.role });
    return { accessToken: token, refreshToken };
  }

  return {
    issue,
    async login(email, password) {
      const row = await findUserByEmail(db, email);
      const ok = await verifyPassword(row?.password_hash, password);
      if (!row || !ok) throw new DomainError('UNAUTHENTICATED', 'wrong email or password');
      const user = publicUser(row);
      return { user, ...(await issue(user)) };
    },
    async refresh(refreshToken) {
      const hash = hashSecret(refreshToken);
      // Claim the token atomically: of two concurrent refreshes with one token, one wins.
      const claimed = await db('refresh_tokens')
        .where({ token_hash: hash })
        .whereNull('used_at')
        .whereNull('revoked_at')
        .where('expires_at', '>', db.fn.now())
        .update({ used_at: db.fn.now() })
        .returning<Array<{ user_id: string; family_id: string }>>(['user_id', 'family_id']);
      const row = claimed[0];
      if (!row) {
        const known = await db('refresh_tokens')
          .where({ token_hash: hash })
          .first<{ family_id: string; used_at: Date | null } | undefined>('family_id', 'used_at');
        if (known?.used_at) {
          await db('refresh_tokens').where({ family_id: known.family_id }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
        }
        throw new DomainError('UNAUTHENTICATED', 'refresh token is invalid, expired or already used');
      }
      const user = await findUserById(db, row.user_id);
      if (!user) throw new DomainError('UNAUTHENTICATED', 'refresh token is invalid, expired or already used');
      return issue(user, row.family_id);
    },
    async logout(refreshToken) {
      const known = await db('refresh_tokens')
        .where({ token_hash: hashSecret(refreshToken) })
        .first<{ family_id: string } | undefined>('family_id');
      if (known) await db('refresh_tokens').where({ family_id: known.family_id }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
    },
  };
}
