import type { HealthCheck } from '@karvon/protocol';

/** What one replica runs: the part of a desired allocation that the placement request decides. */
export interface AllocationSpec {
  tenantId: string;
  releaseId: string;
  releaseNumber: number;
  image: string;
  env: Record<string, string>;
  command?: string[];
  port: number;
  healthCheck: HealthCheck;
  pidsLimit?: number;
}
