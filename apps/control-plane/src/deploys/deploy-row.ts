import type { DeployErrorCode } from './rollout-decision';

export type DeployStatus = 'queued' | 'building' | 'releasing' | 'succeeded' | 'failed' | 'cancelled';
/** Deploys the engine still has to move forward. */
export const ACTIVE_DEPLOY_STATUSES = ['queued', 'building', 'releasing'] as const;

export type DeployKind = 'deploy' | 'rollback' | 'restart' | 'config';

export interface Phase {
  name: string;
  startedAt: string;
  endedAt?: string;
}

export interface DeployRow {
  id: string;
  app_id: string;
  status: DeployStatus;
  kind: DeployKind;
  ref: string | null;
  commit_sha: string | null;
  release_id: string | null;
  build_id: string | null;
  error: { code: DeployErrorCode; message: string; details?: unknown } | null;
  phases: Phase[];
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  deadline_at: Date | null;
  finished_at: Date | null;
}

export interface DeployView {
  id: string;
  appId: string;
  kind: DeployKind;
  status: DeployStatus;
  commitSha?: string;
  releaseNumber?: number;
  error?: { code: DeployErrorCode; message: string; details?: unknown };
  phases: Array<{ name: string; startedAt: string; endedAt: string | null }>;
  createdAt: string;
  finishedAt: string | null;
}

export function deployView(row: DeployRow & { release_number?: number | null }): DeployView {
  return {
    id: row.id,
    appId: row.app_id,
    kind: row.kind,
    status: row.status,
    ...(row.commit_sha ? { commitSha: row.commit_sha } : {}),
    ...(row.release_number ? { releaseNumber: row.release_number } : {}),
    ...(row.error ? { error: row.error } : {}),
    phases: row.phases.map((p) => ({ name: p.name, startedAt: p.startedAt, endedAt: p.endedAt ?? null })),
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: row.finished_at ? new Date(row.finished_at).toISOString() : null,
  };
}

/** Closes the open phase and opens `next` (or only closes, when next is undefined). */
export function advancePhases(phases: readonly Phase[], next: string | undefined, at: Date): Phase[] {
  const iso = at.toISOString();
  const closed = phases.map((p) => (p.endedAt ? p : { ...p, endedAt: iso }));
  return next ? [...closed, { name: next, startedAt: iso }] : closed;
}
