// The parent's handle on one simulator child process: numbered requests over IPC, each answered
// once (`{id, ok: true, …}` or `{id, ok: false, error}`) or timed out, and a stop that kills the
// child if it does not exit by itself. The hub and dispatch simulators share it.
import type { ChildProcess } from 'node:child_process';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Answer = { id: number; ok: true } | { id: number; ok: false; error: string };

export class SimChild<Command extends { cmd: string }, Reply extends { id: number; ok: true }> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<number | string>;

  constructor(
    readonly child: ChildProcess,
    readonly localAddress: string,
  ) {
    child.on('message', (raw) => {
      const msg = raw as Answer;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg as Reply);
      else p.reject(new Error(`simulator ${localAddress}: ${msg.error}`));
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        for (const p of this.pending.values()) p.reject(new Error(`simulator ${localAddress} exited (${code ?? signal})`));
        this.pending.clear();
        resolve(code ?? signal ?? 'unknown');
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  request(cmd: Command, timeoutMs = 30_000): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`simulator ${this.localAddress}: ${cmd.cmd} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...cmd, id });
    });
  }

  /** asks it to stop, then kills it if it has not exited within a second */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.request({ cmd: 'stop' } as Command, 2_000).catch(() => undefined);
    const exited = await Promise.race([this.exited.then(() => true), sleep(1_000).then(() => false)]);
    if (!exited && this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  kill(): Promise<number | string> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }
}
