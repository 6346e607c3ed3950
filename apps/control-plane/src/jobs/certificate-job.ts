import type { Logger } from 'pino';
import type { CertificateService } from '../certificates/certificate-service';

export interface CertificateJobDeps {
  service: CertificateService;
  logger: Logger;
  /** how often due orders and renewals are looked for (default 1 min: the smallest backoff step) */
  periodMs?: number;
}

export interface CertificateJob {
  start(): void;
  /** look now (a domain was just verified) rather than at the next tick */
  wake(): void;
  /** stops the timer and waits for a run in flight */
  stop(): Promise<void>;
}

/**
 * Runs the certificate service on a timer and on demand. Runs never overlap in one process: a wake
 * during a run asks for one more run after it.
 */
export function createCertificateJob(deps: CertificateJobDeps): CertificateJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const run = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = deps.service
      .runOnce()
      .then(
        (r) => {
          if (r.issued.length + r.failed.length > 0) deps.logger.debug(r, 'certificate run');
        },
        (err: unknown) => deps.logger.warn({ err }, 'certificate run failed'),
      )
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          run();
        }
      });
  };

  return {
    start() {
      run();
      timer = setInterval(run, deps.periodMs ?? 60_000);
      timer.unref();
    },
    wake: run,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      while (running) await running;
    },
  };
}
