// Parent side of the dispatch simulators: `node --import tsx bench/dispatch/agent-sim.ts` processes
// (argv arrays, no shell), each bound to its own 127.0.0.x address, spoken to over IPC.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { SimChild } from '../sim-child';
import { REPO_ROOT } from '../hub/control-plane-process';
import type { Arrivals, DispatchSimAgent, DispatchSimStats, DispatchSimToParent, ParentToDispatchSim } from './sim-protocol';

type Command = ParentToDispatchSim extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;
type Reply = Extract<DispatchSimToParent, { ok: true }>;

export class DispatchSim extends SimChild<Command, Reply> {
  async stats(): Promise<DispatchSimStats> {
    return (await this.request({ cmd: 'stats' })).stats!;
  }

  async collect(): Promise<Arrivals> {
    return (await this.request({ cmd: 'collect' }, 60_000)).arrivals!;
  }
}

export interface DispatchSimOptions {
  baseUrl: string;
  connectConcurrency: number;
  ack: boolean;
  /** last octet of the first simulator's 127.0.0.x address */
  firstHost: number;
}

/** Splits the agents over `processes` simulators on 127.0.0.<firstHost + i>; every one is stopped by `onStarted`'s cleanup. */
export async function startDispatchSims(all: DispatchSimAgent[], processes: number, opts: DispatchSimOptions, onStarted: (sim: DispatchSim) => void): Promise<DispatchSim[]> {
  const per = Math.ceil(all.length / processes);
  const sims: DispatchSim[] = [];
  for (let i = 0; i < processes; i++) {
    const localAddress = `127.0.0.${opts.firstHost + i}`;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench', 'dispatch', 'agent-sim.ts')], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const sim = new DispatchSim(child, localAddress);
    onStarted(sim);
    sims.push(sim);
  }
  await Promise.all(
    sims.map((sim, i) =>
      sim.request(
        { cmd: 'init', baseUrl: opts.baseUrl, localAddress: sim.localAddress, agents: all.slice(i * per, (i + 1) * per), connectConcurrency: opts.connectConcurrency, ack: opts.ack },
        60_000,
      ),
    ),
  );
  return sims;
}

export async function simTotals(sims: readonly DispatchSim[]): Promise<DispatchSimStats> {
  const all = await Promise.all(sims.filter((s) => s.running).map((s) => s.stats()));
  const sum: DispatchSimStats = { agents: 0, ready: 0, welcomes: 0, closes: 0, failures: 0, desiredStates: 0, tasks: 0, errorFrames: {}, rssKb: 0 };
  for (const s of all) {
    sum.agents += s.agents;
    sum.ready += s.ready;
    sum.welcomes += s.welcomes;
    sum.closes += s.closes;
    sum.failures += s.failures;
    sum.desiredStates += s.desiredStates;
    sum.tasks += s.tasks;
    sum.rssKb += s.rssKb;
    for (const [k, v] of Object.entries(s.errorFrames)) sum.errorFrames[k] = (sum.errorFrames[k] ?? 0) + v;
  }
  return sum;
}
