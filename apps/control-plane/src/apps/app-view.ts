import type { AppSourceView } from './app-schemas';
import type { AppRow } from './app-row';
import { DEFAULT_HEALTH_CHECK } from './app-row';
import { sourceView } from './git-credentials';
import type { HealthCheck } from '@karvon/protocol';

export interface AppView {
  id: string;
  projectId: string;
  name: string;
  status: string;
  hostname: string;
  region: string;
  planId: string;
  replicas: number;
  port: number;
  healthCheck: HealthCheck;
  source: AppSourceView;
  currentRelease: number | null;
  createdAt: string;
  updatedAt: string;
}

/** The system hostname every app gets: `<app>.<region>.<apps domain>`. */
export const systemHostname = (name: string, region: string, appsDomain: string) => `${name}.${region}.${appsDomain}`;

export function appView(row: AppRow & { current_release_number?: number | null }, appsDomain: string): AppView {
  const status = row.status === 'deleting' || row.status === 'deleted' ? row.status : row.desired_status === 'stopped' ? 'stopped' : row.status;
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    status,
    hostname: systemHostname(row.name, row.region_id, appsDomain),
    region: row.region_id,
    planId: row.plan_id,
    replicas: row.replicas,
    port: row.port,
    healthCheck: row.health_check ?? DEFAULT_HEALTH_CHECK,
    source: sourceView(row.source, row),
    currentRelease: row.current_release_number ?? null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
