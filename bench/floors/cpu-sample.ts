// A server child's CPU reading, taken inside the server process: process.cpuUsage() (user + system,
// µs), a monotonic timestamp and how many units of work (messages, requests) it has handled. Two
// readings give the CPU per unit over the window between them.
export interface CpuSample {
  type: 'cpu';
  userUs: number;
  systemUs: number;
  atMs: number;
  count: number;
}

/** Answers the parent's `sample` requests with this process's CPU and the given counter. */
export function answerCpuSamples(count: () => number): void {
  process.on('message', (m) => {
    if ((m as { type?: string }).type !== 'sample') return;
    const cpu = process.cpuUsage();
    const s: CpuSample = { type: 'cpu', userUs: cpu.user, systemUs: cpu.system, atMs: performance.now(), count: count() };
    process.send?.(s);
  });
}

export interface CpuWindow {
  seconds: number;
  units: number;
  cpuUs: number;
  userUs: number;
  systemUs: number;
  /** CPU per unit of work, µs */
  usPerUnit: number;
  /** share of one core the process used over the window */
  coreShare: number;
}

export function cpuWindow(a: CpuSample, b: CpuSample): CpuWindow {
  const userUs = b.userUs - a.userUs;
  const systemUs = b.systemUs - a.systemUs;
  const cpuUs = userUs + systemUs;
  const units = b.count - a.count;
  const seconds = (b.atMs - a.atMs) / 1000;
  return { seconds, units, cpuUs, userUs, systemUs, usPerUnit: units > 0 ? cpuUs / units : Number.NaN, coreShare: cpuUs / 1e6 / seconds };
}
