export type BuildStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface BuildRow {
  id: string;
  app_id: string;
  node_id: string | null;
  commit_sha: string | null;
  status: BuildStatus;
  image: string | null;
  log: string;
  error: { code: string; message: string } | null;
  started_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
}

/** Limits of one build container; the spec's timeout is enforced by the agent. */
export const BUILD_LIMITS = { cpuMillicores: 1000, memoryMb: 2048, timeoutMs: 15 * 60_000 } as const;

/** The log kept per build: the end of it, where failures are. */
export const MAX_BUILD_LOG_CHARS = 256 * 1024;
