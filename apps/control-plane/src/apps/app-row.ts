import type { HealthCheck } from '@karvon/protocol';
import type { AppSource } from './app-schemas';
import type { GitCredentialColumns } from './git-credentials';

/** An `apps` row as the domain code reads it (`source` never holds `auth`: credentials are in their own columns). */
export interface AppRow extends GitCredentialColumns {
  id: string;
  project_id: string;
  owner_id: string;
  name: string;
  region_id: string;
  plan_id: string;
  source: AppSource;
  port: number;
  replicas: number;
  health_check: HealthCheck | null;
  status: string;
  desired_status: 'running' | 'stopped';
  current_release_id: string | null;
  current_deploy_id: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/** Stored app statuses; `stopped` is derived from desired_status when the view is built. */
export type AppStatus = 'created' | 'deploying' | 'running' | 'failed' | 'deleting' | 'deleted';

export const DEFAULT_HEALTH_CHECK: HealthCheck = { type: 'tcp' };
