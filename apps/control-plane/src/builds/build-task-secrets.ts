// The one place a build task's sealed credential is opened: when the dispatcher puts the task in
// a frame for the builder. The tasks table keeps the sealed value (build-task-spec.ts), so the
// plaintext token or private key exists only in memory and on the wire to the agent (TLS in
// production). A value that cannot be opened (e.g. the master key that sealed it is gone) is left
// out; the clone then fails with CLONE_FAILED and the hint to check the credential.
import type { Task } from '@karvon/protocol';
import { deployKeyAad, gitTokenAad } from '../apps/git-credentials';
import type { SecretBox } from '../secrets/secret-box';

export function openBuildTaskSecrets(task: Task, secrets: Pick<SecretBox, 'open'>, onError: (err: unknown, taskId: string) => void): Task {
  if (task.kind !== 'build' || !task.payload.source.auth) return task;
  const { source } = task.payload;
  const auth = source.auth!;
  try {
    const opened =
      auth.type === 'token'
        ? { ...auth, token: secrets.open(auth.token, gitTokenAad(task.payload.appId)) }
        : { ...auth, privateKey: secrets.open(auth.privateKey, deployKeyAad(task.payload.appId)) };
    return { ...task, payload: { ...task.payload, source: { ...source, auth: opened } } };
  } catch (err) {
    onError(err, task.id);
    const { auth: _dropped, ...rest } = source;
    return { ...task, payload: { ...task.payload, source: rest } };
  }
}
