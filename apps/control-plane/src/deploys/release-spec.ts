import type { AllocationSpec } from '../planner/allocation-spec';
import type { AppRow } from '../apps/app-row';
import type { ReleaseRow } from '../releases/releases';
import type { Resources } from '../nodes/capacity';

/** Opens a sealed env value of an app (where desired states are built). */
export type OpenEnvValue = (appId: string, key: string, sealed: string) => string;

/** What one replica of a release runs, and what it reserves. */
export function releaseSpec(app: Pick<AppRow, 'id' | 'owner_id'>, release: ReleaseRow): { spec: AllocationSpec; resources: Resources; onlyNodes?: string[] } {
  const plan = release.config.plan;
  return {
    spec: {
      tenantId: app.owner_id,
      releaseId: release.id,
      releaseNumber: release.number,
      image: release.image,
      env: {},
      // Still sealed: opened only into the node's desired state (dispatch/desired-state.ts).
      sealedEnv: { ...release.config.env },
      port: release.config.port,
      healthCheck: release.config.healthCheck,
    },
    resources: { cpuMillicores: plan.cpuMillicores, memoryMb: plan.memoryMb, diskMb: plan.diskMb },
    ...(release.config.pinnedNode ? { onlyNodes: [release.config.pinnedNode] } : {}),
  };
}
