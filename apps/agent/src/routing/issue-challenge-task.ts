// The `issue-challenge` task: installs or removes one HTTP-01 answer. Idempotent by construction
// (install is a put, remove of an absent token succeeds), as redelivered tasks require.
import { issueChallengeTaskSpecSchema, type Task } from '@karvon/protocol';
import { TaskFailure, type TaskHandler } from '../tasks/task-runner';
import { ChallengeStoreFull, type ChallengeStore } from './challenge-store';
import { checkHostname } from './hostname';

export function createIssueChallengeHandler(store: ChallengeStore): TaskHandler {
  return async (task) => {
    const parsed = issueChallengeTaskSpecSchema.safeParse((task as Task<'issue-challenge'>).payload);
    if (!parsed.success) throw new TaskFailure('INVALID_CHALLENGE', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const spec = parsed.data;
    const refusal = checkHostname(spec.hostname);
    if (refusal) throw new TaskFailure('INVALID_HOSTNAME', `hostname refused: ${refusal}`);
    if (spec.action === 'remove') return { token: spec.token, action: 'remove', removed: await store.remove(spec.token) };
    try {
      await store.install({ token: spec.token, hostname: spec.hostname, keyAuthorization: spec.keyAuthorization });
    } catch (e) {
      if (e instanceof ChallengeStoreFull) throw new TaskFailure('TOO_MANY_CHALLENGES', e.message);
      throw e;
    }
    return { token: spec.token, action: 'install', installed: true };
  };
}
