import type { HealthCheck } from '@karvon/protocol';

/** What one replica runs: the part of a desired allocation that the placement request decides. */
export interface AllocationSpec {
  tenantId: string;
  releaseId: string;
  releaseNumber: number;
  image: string;
  /** plain values (fixtures, platform-set values) */
  env: Record<string, string>;
  /**
   * the release's env, each value sealed (secrets/secret-box, aad envVarAad(app, key)): opened
   * only when the node's desired state is built, so allocation rows hold no secret in clear
   */
  sealedEnv?: Record<string, string>;
  command?: string[];
  port: number;
  healthCheck: HealthCheck;
  pidsLimit?: number;
}
