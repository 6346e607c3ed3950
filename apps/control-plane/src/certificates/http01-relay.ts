// HTTP-01 through the nodes: the CA connects to port 80 of whatever address the hostname resolves
// to, which may be any node of the app's region. So the key authorization is pushed to EVERY
// online node of the region as an `issue-challenge` install task, and the CA is told to validate
// only once the nodes have answered. Removal is fire-and-forget (a stale token is harmless and the
// agent forgets it on its own).
import type { Db } from '../db/connect';
import { enqueueTasks } from '../dispatch/task-queue';

export interface Http01Relay {
  /** resolves when at least one node holds the token and none is still working on it */
  install(regionId: string, hostname: string, token: string, keyAuthorization: string): Promise<void>;
  remove(regionId: string, hostname: string, token: string, keyAuthorization: string): Promise<void>;
}

export interface Http01RelayOptions {
  db: Db;
  /** how long to wait for the nodes' results */
  waitMs?: number;
  pollMs?: number;
}

const TERMINAL = new Set(['succeeded', 'failed', 'timed-out', 'cancelled', 'dead']);

export function createHttp01Relay(opts: Http01RelayOptions): Http01Relay {
  const { db } = opts;
  const waitMs = opts.waitMs ?? 60_000;
  const pollMs = opts.pollMs ?? 200;
  /** token → the nodes it went to, so removal reaches exactly them */
  const installedOn = new Map<string, string[]>();

  async function onlineNodes(regionId: string): Promise<string[]> {
    return (await db('nodes').where({ region_id: regionId, liveness: 'online' }).whereNull('revoked_at').whereNot({ admin_status: 'disabled' }).orderBy('id').pluck('id')) as string[];
  }

  function tasksFor(nodeIds: readonly string[], action: 'install' | 'remove', hostname: string, token: string, keyAuthorization: string) {
    // Wall-clock deadline: the task table compares it with the database's now().
    const deadline = new Date(Date.now() + Math.max(waitMs, 60_000));
    return nodeIds.map((nodeId) => ({
      nodeId,
      kind: 'issue-challenge' as const,
      payload: { hostname, token, keyAuthorization, action },
      idempotencyKey: `acme-http01:${action}:${nodeId}:${token}`,
      deadline,
    }));
  }

  return {
    async install(regionId, hostname, token, keyAuthorization) {
      const nodeIds = await onlineNodes(regionId);
      if (nodeIds.length === 0) throw new Error(`no online node in region ${regionId} to answer the HTTP-01 challenge`);
      installedOn.set(token, nodeIds);
      const ids = (await enqueueTasks(db, tasksFor(nodeIds, 'install', hostname, token, keyAuthorization))).map((r) => r.id);
      const started = Date.now();
      for (;;) {
        const rows = await db('tasks').whereIn('id', ids).select<Array<{ node_id: string; state: string; last_error: { message?: string } | null }>>('node_id', 'state', 'last_error');
        const done = rows.filter((r) => TERMINAL.has(r.state));
        const ok = done.filter((r) => r.state === 'succeeded');
        if (done.length === rows.length || (ok.length > 0 && Date.now() - started > waitMs)) {
          // A node that could not take the token fails the validation only if the CA reaches it;
          // then the order fails and is retried with backoff, the error naming what happened.
          if (ok.length > 0) return;
          const why = rows.map((r) => `${r.node_id}: ${r.state}${r.last_error?.message ? ` (${r.last_error.message})` : ''}`).join('; ');
          throw new Error(`no node of region ${regionId} installed the HTTP-01 token: ${why}`);
        }
        if (Date.now() - started > waitMs) throw new Error(`no node of region ${regionId} confirmed the HTTP-01 token within ${Math.round(waitMs / 1000)} s`);
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
    async remove(_regionId, hostname, token, keyAuthorization) {
      const nodeIds = installedOn.get(token) ?? [];
      installedOn.delete(token);
      await enqueueTasks(db, tasksFor(nodeIds, 'remove', hostname, token, keyAuthorization));
    },
  };
}
