// Reading a process from the outside: /proc/<pid>/status (VmRSS) and /proc/<pid>/stat (CPU).
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on every Linux we run on). */
const CLOCK_TICKS = 100;

/** Resident set size in KiB, or undefined if the process is gone. */
export function rssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface Stat {
  ppid: number;
  comm: string;
  /** utime + stime, in microseconds */
  cpuUs: number;
}

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { ppid: Number(fields[1]), comm: text.slice(open + 1, close), cpuUs: (ticks * 1_000_000) / CLOCK_TICKS };
}

/** utime + stime of every thread of the process, in microseconds (10 ms resolution). */
export function cpuUs(pid: number): number {
  return stat(pid)?.cpuUs ?? Number.NaN;
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** The process's descendants (children, their children, …) as they are now. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allPids()) {
    const s = stat(p);
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(p);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** Summed CPU of the given processes (those still alive), in microseconds. */
export function cpuUsOf(pids: readonly number[]): number {
  let sum = 0;
  for (const p of pids) sum += stat(p)?.cpuUs ?? 0;
  return sum;
}

/** The command line of a process, or undefined if it is gone. */
export function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

export function commOf(pid: number): string | undefined {
  return stat(pid)?.comm;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
