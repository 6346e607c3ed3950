// The rollout of one deploy, decided from what the agents report (pure). A deploy owns the
// allocations it placed (allocations.deploy_id); the app's other live allocations keep serving
// until every one of the deploy's replicas is healthy, and only then are they retired. A replica
// that fails, or a rollout that outlives its deadline, fails the deploy and retires its own
// replicas instead, so the previous release never stops serving because of a bad one.

export const DEPLOY_ERROR_CODES = [
  'NO_CAPACITY',
  'IMAGE_NOT_FOUND',
  'HEALTH_CHECK_FAILED',
  'CRASH_LOOP',
  'START_FAILED',
  'DEPLOY_TIMEOUT',
  'SUPERSEDED',
  'APP_DELETED',
  'CLONE_FAILED',
  'NO_BUILDPACK',
  'UNSAFE_SOURCE',
  'BUILD_FAILED',
  'BUILD_TIMEOUT',
  'PUSH_FAILED',
] as const;
export type DeployErrorCode = (typeof DEPLOY_ERROR_CODES)[number];

export interface RolloutAllocation {
  id: string;
  /** as the agent last reported it: pending (not yet), starting, running, healthy, unhealthy, failed, crash-loop… */
  actualStatus: string;
  statusMessage: string | null;
}

export interface RolloutInput {
  replicas: number;
  /** live allocations this deploy placed */
  mine: readonly RolloutAllocation[];
  /** live allocations of the app's earlier deploys */
  others: readonly string[];
  now: number;
  deadline: number;
}

export type RolloutStep =
  | { kind: 'place'; count: number }
  | { kind: 'trim'; retire: string[] }
  | { kind: 'wait'; healthy: number }
  | { kind: 'succeed'; retire: string[] }
  | { kind: 'fail'; code: DeployErrorCode; message: string; retire: string[] };

const FAILED = new Set(['failed', 'crash-loop']);

export function decideRollout(input: RolloutInput): RolloutStep {
  const mine = input.mine.map((a) => a.id);
  const failed = input.mine.find((a) => FAILED.has(a.actualStatus));
  if (failed) {
    const { code, message } = classifyFailure(failed);
    return { kind: 'fail', code, message, retire: mine };
  }
  if (input.now > input.deadline) {
    const healthy = input.mine.filter((a) => a.actualStatus === 'healthy').length;
    return { kind: 'fail', code: 'DEPLOY_TIMEOUT', message: `${healthy} of ${input.replicas} replicas healthy when the rollout deadline passed`, retire: mine };
  }
  if (input.mine.length < input.replicas) return { kind: 'place', count: input.replicas - input.mine.length };
  if (input.mine.length > input.replicas) {
    // Scaled down mid-rollout: drop the replicas furthest from serving first.
    const order = [...input.mine].sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? 1 : -1));
    return { kind: 'trim', retire: order.slice(0, input.mine.length - input.replicas).map((a) => a.id) };
  }
  const healthy = input.mine.filter((a) => a.actualStatus === 'healthy').length;
  if (healthy === input.replicas) return { kind: 'succeed', retire: [...input.others] };
  return { kind: 'wait', healthy };
}

const rank = (a: RolloutAllocation) => (a.actualStatus === 'healthy' ? 1 : 0);

const IMAGE_MISSING = /no such image|pull access denied|manifest unknown|repository does not exist|not found: manifest|image .* not found/i;

export function classifyFailure(a: RolloutAllocation): { code: DeployErrorCode; message: string } {
  const message = a.statusMessage ?? `replica ${a.id} ${a.actualStatus}`;
  if (a.actualStatus === 'crash-loop' || /^crash-loop/.test(message)) return { code: 'CRASH_LOOP', message };
  if (IMAGE_MISSING.test(message)) return { code: 'IMAGE_NOT_FOUND', message };
  if (/^unhealthy|health/i.test(message)) return { code: 'HEALTH_CHECK_FAILED', message };
  return { code: 'START_FAILED', message };
}
