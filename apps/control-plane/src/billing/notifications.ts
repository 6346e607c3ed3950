// In-app notifications: a row per message to a user, shown by GET /notifications. Email and
// Telegram channels can later deliver the same rows. A dedupe key makes "once per episode" a
// database guarantee rather than a hope.
import type { Knex } from 'knex';
import type { Db } from '../db/connect';
import { newId } from '../db/ids';

export interface NewNotification {
  userId: string;
  kind: string;
  message: string;
  data?: Record<string, unknown>;
  dedupeKey?: string;
}

export interface NotificationRow {
  id: string;
  user_id: string;
  kind: string;
  message: string;
  data: Record<string, unknown>;
  read_at: Date | null;
  created_at: Date;
}

/** Inserts the notification unless one with its dedupe key exists; answers whether it was new. */
export async function notify(db: Db | Knex.Transaction, n: NewNotification): Promise<boolean> {
  const res = await db.raw<{ rowCount: number }>(
    `insert into notifications (id, user_id, kind, message, data, dedupe_key) values (?, ?, ?, ?, ?::jsonb, ?)
     on conflict (user_id, dedupe_key) where dedupe_key is not null do nothing`,
    [newId('ntf'), n.userId, n.kind, n.message, JSON.stringify(n.data ?? {}), n.dedupeKey ?? null],
  );
  return res.rowCount === 1;
}

export function listNotifications(db: Db, userId: string, page: { limit: number; cursor?: { at: string; id: string } }): Promise<NotificationRow[]> {
  const q = db('notifications').where({ user_id: userId });
  if (page.cursor) {
    const c = page.cursor;
    q.andWhereRaw(`(date_trunc('milliseconds', created_at), id) < (?::timestamptz, ?)`, [c.at, c.id]);
  }
  return q.orderByRaw(`date_trunc('milliseconds', created_at) desc, id desc`).limit(page.limit + 1).select<NotificationRow[]>('id', 'user_id', 'kind', 'message', 'data', 'read_at', 'created_at');
}

export function notificationView(r: NotificationRow) {
  return { id: r.id, kind: r.kind, message: r.message, data: r.data, readAt: r.read_at ? new Date(r.read_at).toISOString() : null, createdAt: new Date(r.created_at).toISOString() };
}
