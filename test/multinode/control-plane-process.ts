// The control plane as its own process (the real bin, `npm run build` first), against an existing
// database and data dir on a fixed port: what a fault test SIGKILLs at random points and starts
// again. The agents' relays point at the port, so they reconnect to each new process.
import { nodeBin, startProcess, waitForHttp, type RunningProcess } from '../processes';

const bin = nodeBin('apps/control-plane/bin/karvon-control-plane.js');

export interface ControlPlaneProcessOptions {
  port: number;
  databaseUrl: string;
  dataDir: string;
  admin: { email: string; password: string };
  /** settings, as in production (KARVON_*) */
  env: Record<string, string>;
  /** default info */
  logLevel?: string;
}

export interface ControlPlaneProcess {
  readonly url: string;
  /** the running process, if any */
  readonly current: RunningProcess | undefined;
  /** starts a process (none may run) and waits for /readyz */
  start(timeoutMs?: number): Promise<void>;
  /** SIGKILL: no shutdown of any kind, as a crash or an OOM kill */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit */
  stop(): Promise<void>;
  /** the output of every process so far (the last 20 kB each, or all with `full`), for failure messages */
  output(full?: boolean): string;
}

export function controlPlaneProcess(o: ControlPlaneProcessOptions): ControlPlaneProcess {
  const url = `http://127.0.0.1:${o.port}`;
  let current: RunningProcess | undefined;
  const past: string[] = [];
  const retire = () => {
    if (current) past.push(current.output());
    current = undefined;
  };
  return {
    url,
    get current() {
      return current;
    },
    async start(timeoutMs = 60_000) {
      if (current) throw new Error('a control plane process is already running');
      const p = startProcess(bin.file, bin.args, {
        KARVON_PORT: String(o.port),
        KARVON_HOST: '127.0.0.1',
        DATABASE_URL: o.databaseUrl,
        KARVON_DATA_DIR: o.dataDir,
        KARVON_ADMIN_EMAIL: o.admin.email,
        KARVON_ADMIN_PASSWORD: o.admin.password,
        KARVON_LOG_LEVEL: o.logLevel ?? 'info',
        ...o.env,
      });
      current = p;
      let ready = false;
      const exitedEarly = p.exited.then((code) => {
        if (!ready) throw new Error(`control plane exited with ${code} before it was ready:\n${p.output().slice(-4000)}`);
      });
      exitedEarly.catch(() => undefined);
      await Promise.race([waitForHttp(`${url}/readyz`, timeoutMs), exitedEarly]);
      ready = true;
    },
    async kill() {
      const p = current;
      if (!p) return;
      p.kill('SIGKILL');
      await p.exited;
      retire();
    },
    async stop() {
      const p = current;
      if (!p) return;
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
      await p.exited;
      clearTimeout(timer);
      retire();
    },
    output(full = false) {
      return [...past, current?.output() ?? ''].map((x) => (full ? x : x.slice(-20_000))).join('\n--- next process ---\n');
    },
  };
}
