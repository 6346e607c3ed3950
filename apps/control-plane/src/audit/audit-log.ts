import type { Db } from '../db/connect';

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

export async function writeAudit(db: Db, e: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    actor_type: e.actorType,
    actor_id: e.actorId,
    action: e.action,
    target: e.target,
    ip: e.ip,
    status: e.status ?? null,
    request_id: e.requestId ?? null,
    details: e.details ? JSON.stringify(e.details) : null,
  });
}
