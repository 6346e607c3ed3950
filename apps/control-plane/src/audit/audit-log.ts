import type { Db } from '../db/connect';
import { preparedQuery } from '../access/prepared-query';

export interface AuditEntry {
  actorType: 'user' | 'api-token' | 'node' | 'system' | 'anonymous';
  actorId: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  status?: number;
  requestId?: string;
  details?: Record<string, unknown>;
}

const INSERT = `insert into audit_log (actor_type, actor_id, action, target, ip, status, request_id, details) values ($1, $2, $3, $4, $5, $6, $7, $8)`;

/** One row per call; prepared once per connection (every mutating request writes one). */
export async function writeAudit(db: Db, e: AuditEntry): Promise<void> {
  await preparedQuery(db, 'audit_insert', INSERT, [
    e.actorType,
    e.actorId,
    e.action,
    e.target,
    e.ip,
    e.status ?? null,
    e.requestId ?? null,
    e.details ? JSON.stringify(e.details) : null,
  ]);
}
