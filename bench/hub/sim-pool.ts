// Parent side of the simulators: spawns `node --import tsx bench/hub/sim-agents.ts` processes
// (argv arrays, no shell), each bound to its own 127.0.0.x address, and talks to them over IPC.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { SimChild } from '../sim-child';
import { REPO_ROOT, sleep } from './control-plane-process';
import type { ParentToSim, SilenceResult, SimAgentSpec, SimStats, SimToParent } from './sim-protocol';

type Command = ParentToSim extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;
type Reply = Extract<SimToParent, { ok: true }>;

export class Sim extends SimChild<Command, Reply> {
  constructor(
    child: ChildProcess,
    localAddress: string,
    readonly agents: SimAgentSpec[],
  ) {
    super(child, localAddress);
  }

  async stats(): Promise<SimStats> {
    return (await this.request({ cmd: 'stats' })).stats!;
  }

  async silence(): Promise<SilenceResult> {
    return (await this.request({ cmd: 'silence' })).silence!;
  }

  async welcomeTimes(): Promise<Record<string, number>> {
    return (await this.request({ cmd: 'welcome-times' })).welcomeTimes!;
  }


}

export interface SimOptions {
  baseUrl: string;
  heartbeatMinBytes: number;
  connectConcurrency: number;
}

/** Starts one simulator for these agents, bound to `localAddress`, and initialises it. */
export async function startSim(localAddress: string, agents: SimAgentSpec[], opts: SimOptions): Promise<Sim> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench', 'hub', 'sim-agents.ts')], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const sim = new Sim(child, localAddress, agents);
  try {
    await sim.request({ cmd: 'init', baseUrl: opts.baseUrl, localAddress, agents, heartbeatMinBytes: opts.heartbeatMinBytes, connectConcurrency: opts.connectConcurrency }, 60_000);
  } catch (e) {
    await sim.kill();
    throw e;
  }
  return sim;
}

/** Splits agents over `processes` simulators on 127.0.0.<firstHost + i>. */
export async function startSims(all: SimAgentSpec[], processes: number, opts: SimOptions & { firstHost?: number }): Promise<Sim[]> {
  const per = Math.ceil(all.length / processes);
  const first = opts.firstHost ?? 11;
  const started = await Promise.allSettled(
    Array.from({ length: processes }, (_, i) => startSim(`127.0.0.${first + i}`, all.slice(i * per, (i + 1) * per), opts)),
  );
  const sims = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(sims.map((s) => s.kill()));
    throw failed.reason;
  }
  return sims;
}

export async function totals(sims: readonly Sim[]): Promise<SimStats> {
  const all = await Promise.all(sims.filter((s) => s.running).map((s) => s.stats()));
  const sum: SimStats = { agents: 0, ready: 0, welcomes: 0, heartbeats: 0, heartbeatBytes: 0, tokenFailures: 0, upgradeFailures: 0, closes: 0, errorFrames: {}, tokenFailureKinds: {}, phaseMs: { token: 0, upgrade: 0, welcome: 0, sessions: 0 }, lastWelcomeAt: 0, rssKb: 0 };
  for (const s of all) {
    sum.agents += s.agents;
    sum.ready += s.ready;
    sum.welcomes += s.welcomes;
    sum.heartbeats += s.heartbeats;
    sum.heartbeatBytes = s.heartbeatBytes;
    sum.tokenFailures += s.tokenFailures;
    sum.upgradeFailures += s.upgradeFailures;
    sum.closes += s.closes;
    sum.lastWelcomeAt = Math.max(sum.lastWelcomeAt, s.lastWelcomeAt);
    sum.rssKb += s.rssKb;
    for (const [k, v] of Object.entries(s.errorFrames)) sum.errorFrames[k] = (sum.errorFrames[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.tokenFailureKinds)) sum.tokenFailureKinds[k] = (sum.tokenFailureKinds[k] ?? 0) + v;
    sum.phaseMs.token += s.phaseMs.token;
    sum.phaseMs.upgrade += s.phaseMs.upgrade;
    sum.phaseMs.welcome += s.phaseMs.welcome;
    sum.phaseMs.sessions += s.phaseMs.sessions;
  }
  return sum;
}

/** Polls until `ready` agents are welcomed (or the deadline passes); returns the last totals. */
export async function waitReady(sims: readonly Sim[], ready: number, timeoutMs: number, onPoll?: (t: SimStats) => void): Promise<SimStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await totals(sims);
    onPoll?.(t);
    if (t.ready >= ready || Date.now() > deadline) return t;
    await sleep(200);
  }
}
