// Parent side of a floor-benchmark child process: `node --import tsx <script> ...argv` (an argv
// array, no shell) with an IPC channel. Children speak in plain `{ type, ... }` objects; the parent
// waits for a given type, or asks for the child's CPU (`sample` → `{ type: 'cpu', ... }`).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CpuSample } from './cpu-sample';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

export class FloorChild {
  private readonly inbox: ChildMessage[] = [];
  private waiter: (() => void) | undefined;
  private exitedWith: string | undefined;

  constructor(private readonly child: ChildProcess, private readonly name: string) {
    child.on('message', (m) => {
      this.inbox.push(m as ChildMessage);
      this.waiter?.();
    });
    child.on('exit', (code, signal) => {
      this.exitedWith = String(code ?? signal);
      this.waiter?.();
    });
  }

  /** Resolves with the first message of this type (earlier ones of other types are dropped). */
  async next(type: string, timeoutMs = 120_000): Promise<ChildMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.inbox.findIndex((m) => m.type === type);
      if (at >= 0) return this.inbox.splice(0, at + 1)[at]!;
      if (this.exitedWith !== undefined) throw new Error(`${this.name} exited (${this.exitedWith}) before sending ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** The child's own process.cpuUsage() and counter, read inside the child. */
  async sample(): Promise<CpuSample> {
    this.child.send({ type: 'sample' });
    return (await this.next('cpu', 30_000)) as unknown as CpuSample;
  }

  async stop(): Promise<void> {
    if (this.exitedWith !== undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
}

/** Starts `bench/floors/<script>` with these arguments. */
export function startFloorChild(script: string, args: string[]): FloorChild {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench', 'floors', script), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new FloorChild(child, `${script} ${args.join(' ')}`);
}
