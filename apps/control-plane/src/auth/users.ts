import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import { hashPassword } from './passwords';

export type Role = 'admin' | 'customer';

export interface User {
  id: string;
  email: string;
  role: Role;
}

interface UserRow extends User {
  password_hash: string;
}

export function publicUser(row: User): User {
  return { id: row.id, email: row.email, role: row.role };
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db<UserRow>('users').whereRaw('lower(email) = lower(?)', [email]).first('id', 'email', 'role', 'password_hash');
}

export async function findUserById(db: Db, id: string): Promise<User | undefined> {
  return db<User>('users').where({ id }).first('id', 'email', 'role');
}

export async function createUser(db: Db, input: { email: string; password: string; role: Role }): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  const id = newId('usr');
  // The unique index on lower(email) is the arbiter: two concurrent sign-ups cannot both win.
  const rows = await db.raw<{ rows: User[] }>(
    `insert into users (id, email, password_hash, role) values (?, ?, ?, ?)
     on conflict (lower(email)) do nothing returning id, email, role`,
    [id, input.email, passwordHash, input.role],
  );
  const user = rows.rows[0];
  if (!user) throw new DomainError('CONFLICT', 'email: already registered');
  return user;
}

/** `KARVON_ADMIN_EMAIL` + `KARVON_ADMIN_PASSWORD`: the admin exists, with that password, at start. */
export async function ensureAdmin(db: Db, admin: { email: string; password: string }): Promise<User> {
  const existing = await findUserByEmail(db, admin.email);
  const passwordHash = await hashPassword(admin.password);
  if (existing) {
    await db('users').where({ id: existing.id }).update({ role: 'admin', password_hash: passwordHash, updated_at: db.fn.now() });
    return { id: existing.id, email: existing.email, role: 'admin' };
  }
  return createUser(db, { email: admin.email, password: admin.password, role: 'admin' });
}
