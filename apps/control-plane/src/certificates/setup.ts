// Builds the custom-domain and certificate pieces of a control plane from its configuration, so
// control-plane.ts only starts and stops one thing. Without KARVON_ACME_DIRECTORY_URL domains can
// still be added and verified; their certificates stay `pending` until a CA is configured.
import type { Logger } from 'pino';
import type { ControlPlaneConfig } from '../config';
import type { Db } from '../db/connect';
import { createTxtLookup } from '../domains/txt-lookup';
import type { DomainRouteDeps } from '../http/routes/domains';
import { createCertificateJob } from '../jobs/certificate-job';
import type { SecretBox } from '../secrets/secret-box';
import { createCertificateService, type CertificateService, type CertificateServiceOptions } from './certificate-service';

/** Test and tuning knobs (the clock, the renewal threshold, backoff, limits, the job's period). */
export type CertificateTuning = Partial<Pick<CertificateServiceOptions, 'now' | 'renewFraction' | 'backoff' | 'limits' | 'dns01' | 'http01' | 'batch'>> & { periodMs?: number };

export interface CertificatesRuntime {
  /** undefined when no ACME directory is configured */
  service: CertificateService | undefined;
  /** for the HTTP routes */
  domains: Omit<DomainRouteDeps, 'db'>;
  start(): void;
  stop(): Promise<void>;
}

export function setUpCertificates(config: Readonly<ControlPlaneConfig>, deps: { db: Db; secrets: SecretBox; logger: Logger; tuning?: CertificateTuning }): CertificatesRuntime {
  const { tuning = {} } = deps;
  const logger = deps.logger.child({ component: 'certificates' });
  const directoryUrl = config.acme.directoryUrl;
  const service = directoryUrl
    ? createCertificateService({ db: deps.db, secrets: deps.secrets, logger, acme: { directoryUrl, email: config.acme.email, caFile: config.acme.caFile }, ...tuning })
    : undefined;
  const job = service ? createCertificateJob({ service, logger, ...(tuning.periodMs ? { periodMs: tuning.periodMs } : {}) }) : undefined;
  let publicHostname: string | undefined;
  try {
    publicHostname = new URL(config.publicUrl).hostname.toLowerCase();
  } catch {
    publicHostname = undefined;
  }
  return {
    service,
    domains: {
      policy: { appsDomain: config.appsDomain, platformHostnames: publicHostname ? [publicHostname] : [] },
      txt: createTxtLookup(config.dnsResolver),
      requestCertificates: () => job?.wake(),
    },
    start() {
      if (!job) logger.warn('KARVON_ACME_DIRECTORY_URL is not set: custom domains stay without certificates');
      job?.start();
    },
    stop: async () => job?.stop(),
  };
}
