// CPU profiles of one phase of the control plane (through its inspector), summarised as the top
// frames by self and inclusive time and the share of each package. The profiler slows the process
// down, so figures measured while it runs are not reported as results.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Inspector } from './control-plane-process';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export async function startProfile(insp: Inspector): Promise<void> {
  await insp.call('Profiler.enable');
  await insp.call('Profiler.setSamplingInterval', { interval: 250 });
  await insp.call('Profiler.start');
}

export async function stopProfile(insp: Inspector, file?: string): Promise<CpuProfile> {
  const { profile } = await insp.call<{ profile: CpuProfile }>('Profiler.stop', {}, 120_000);
  await insp.call('Profiler.disable');
  if (file) writeFileSync(file, JSON.stringify(profile));
  return profile;
}

function packageOf(url: string): string {
  if (url === '') return '(native/vm)';
  if (url.startsWith('node:')) return 'node internals';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes('/apps/control-plane/dist/')) return 'control plane (bundle: app + @karvon/protocol)';
  return path.basename(url);
}

function label(f: CallFrame): string {
  const where = f.url === '' ? '' : ` ${f.url.replace(/^.*node_modules\//, '').replace(/^.*\/apps\//, 'apps/')}:${f.lineNumber + 1}`;
  return `${f.functionName || '(anonymous)'}${where}`;
}

/** Prints the top frames; `perUnit` divides times (e.g. by heartbeats) to show µs per unit. */
export function summarise(profile: CpuProfile, title: string, perUnit?: { count: number; unit: string }, top = 15): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const packages = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const node = byId.get(profile.samples[i]!)!;
    const name = node.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') continue;
    total += dt;
    const key = label(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const pkg = packageOf(node.callFrame.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const k = label(byId.get(id)!.callFrame);
      if (seen.has(k) || k === '(root)') continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  }
  const fmt = (us: number) =>
    `${((us / total) * 100).toFixed(1).padStart(5)}%` + (perUnit ? ` ${(us / perUnit.count).toFixed(2).padStart(7)} µs/${perUnit.unit}` : '');
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `      ${fmt(v)}  ${k}`)
      .join('\n');
  console.log(`  profile: ${title} — ${(total / 1000).toFixed(0)} ms of CPU sampled (idle excluded)`);
  console.log(`    by package (self time):\n${list(packages, 10)}`);
  console.log(`    top frames by self time:\n${list(self, top)}`);
  console.log(`    top frames by inclusive time:\n${list(inclusive, top)}`);
}
