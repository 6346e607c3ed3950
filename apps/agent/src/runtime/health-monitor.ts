// Probes running containers, each at its own interval, and remembers the last answer so a
// reconcile pass does not probe everything every time.
import type { ObservedContainer, HealthResult } from './observation';
import { probe, type ProbeTarget } from './health-probe';

/** Until first healthy a container is probed often, so traffic switches soon after it listens. */
const STARTING_INTERVAL_MS = 250;
const DEFAULT_INTERVAL_MS = 10_000;
const CONCURRENCY = 16;

export function createHealthMonitor(advertiseAddr: string) {
  let last = new Map<string, { at: number; result: HealthResult }>();

  /**
   * Where a probe goes. HTTP goes to the published port, the path traffic takes. TCP goes to the
   * container's own address: Docker's userland proxy accepts on the published port whether or not
   * the app listens behind it, so a TCP probe there would pass before the app is up.
   */
  const targetOf = (c: ObservedContainer): ProbeTarget | undefined => {
    if (c.healthCheck?.type === 'tcp' && c.ip && c.containerPort) return { host: c.ip, port: c.containerPort };
    return c.hostPort ? { host: advertiseAddr, port: c.hostPort } : undefined;
  };

  return {
    /** `everHealthy(c)`: whether the allocation has been healthy before (then the slower interval applies). */
    async check(containers: readonly ObservedContainer[], everHealthy: (c: ObservedContainer) => boolean, now: number): Promise<Map<string, HealthResult>> {
      const next = new Map<string, { at: number; result: HealthResult }>();
      const due: Array<{ c: ObservedContainer; target: ProbeTarget }> = [];
      for (const c of containers) {
        if (c.state !== 'running') continue;
        const target = targetOf(c);
        if (!c.healthCheck || !target) {
          next.set(c.id, { at: now, result: { ok: false, error: 'no health check or port on the container' } });
          continue;
        }
        const prev = last.get(c.id);
        const interval = everHealthy(c) && prev?.result.ok ? (c.healthCheck.intervalMs ?? DEFAULT_INTERVAL_MS) : Math.min(c.healthCheck.intervalMs ?? STARTING_INTERVAL_MS, STARTING_INTERVAL_MS);
        if (prev && now - prev.at < interval) next.set(c.id, prev);
        else due.push({ c, target });
      }
      for (let i = 0; i < due.length; i += CONCURRENCY) {
        await Promise.all(
          due.slice(i, i + CONCURRENCY).map(async ({ c, target }) => {
            next.set(c.id, { at: now, result: await probe(c.healthCheck!, target) });
          }),
        );
      }
      last = next;
      return new Map([...next].map(([id, v]) => [id, v.result]));
    },

    /**
     * Probes now, once, the running containers that were never healthy (between reconcile passes,
     * so a replica is found healthy soon after it listens). A success is kept as the container's
     * latest answer, which the next check reuses within the starting interval; a failure is not
     * kept (the check probes again). True when one answered.
     */
    async probeStarting(containers: readonly ObservedContainer[], everHealthy: (c: ObservedContainer) => boolean, now: number): Promise<boolean> {
      let answered = false;
      await Promise.all(
        containers.map(async (c) => {
          const target = c.state === 'running' && c.healthCheck && !everHealthy(c) ? targetOf(c) : undefined;
          if (!target) return;
          const result = await probe(c.healthCheck!, target);
          if (!result.ok) return;
          last.set(c.id, { at: now, result });
          answered = true;
        }),
      );
      return answered;
    },
  };
}
