// The closed set of build failure codes. Each reaches the control plane as the task result's error
// code with a message a customer can act on (what failed, and what to change).
import { TaskFailure } from '../tasks/task-runner';

export const BUILD_FAILURE_CODES = ['CLONE_FAILED', 'NO_BUILDPACK', 'UNSAFE_SOURCE', 'BUILD_FAILED', 'BUILD_TIMEOUT', 'BUILD_CANCELLED', 'PUSH_FAILED'] as const;
export type BuildFailureCode = (typeof BUILD_FAILURE_CODES)[number];

export class BuildFailure extends TaskFailure {
  constructor(
    override readonly code: BuildFailureCode,
    message: string,
  ) {
    super(code, message);
  }
}
