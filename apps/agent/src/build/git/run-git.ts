// Runs one git command of a build: `git -c <setting>… <args>` in `cwd`, with exactly the given
// environment (nothing inherited), killed when `signal` aborts. Resolves with stdout; a non-zero
// exit rejects with git's stderr (clone.ts redacts and scrubs it before it reaches a message).
//
// A plain child process rather than simple-git: simple-git waits a fixed 50 ms after every command
// that printed nothing (`init`, `fetch --quiet`, `checkout --quiet`), 0.15-0.2 s per build. Every
// setting and argument is still ours: the customer's URL and ref only ever follow `--`.
import { execFile } from 'node:child_process';

export interface RunGitOptions {
  cwd: string;
  /** `key=value` settings, each passed as `-c key=value` before the command */
  config: readonly string[];
  /** the whole environment of the child */
  env: Readonly<Record<string, string>>;
  signal: AbortSignal;
}

/** Bounds what git may print before it is stopped (its messages are a few lines; a fetch is quiet). */
const MAX_OUTPUT_BYTES = 4 * 2 ** 20;

/** The argv after `git`: every setting as `-c key=value`, then the command. Pure (tested). */
export function gitArgv(config: readonly string[], args: readonly string[]): string[] {
  const argv: string[] = [];
  for (const setting of config) {
    // A setting without a key, or one that could be read as an option, is a bug here, never input.
    if (!/^[A-Za-z][A-Za-z0-9.-]*=/.test(setting)) throw new Error(`not a git setting: ${JSON.stringify(setting.slice(0, 40))}`);
    argv.push('-c', setting);
  }
  return [...argv, ...args];
}

export class GitCommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(stderr.trim() || `git ${command} exited with ${String(exitCode)}`);
  }
}

export function runGit(args: readonly string[], o: RunGitOptions): Promise<string> {
  const argv = gitArgv(o.config, args);
  return new Promise((resolve, reject) => {
    execFile('git', argv, { cwd: o.cwd, env: { ...o.env }, signal: o.signal, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8', windowsHide: true }, (err, stdout, stderr) => {
      if (!err) {
        resolve(stdout);
        return;
      }
      const code = (err as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
      reject(new GitCommandError(args[0] ?? '', code, stderr || err.message));
    });
  });
}
