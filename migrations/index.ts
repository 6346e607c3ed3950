// Forward-only, numbered migrations, imported statically so the bundled control plane carries them.
// Add a file `NNNN_name.ts` exporting `up`, and list it here in order; never edit a landed one.
import type { Knex } from 'knex';
import * as core from './0001_core';
import * as placement from './0002_placement';
import * as allocationStatus from './0003_allocation_status';
import * as allocationMetrics from './0004_allocation_metrics';
import * as appLifecycle from './0005_app_lifecycle';
import * as dispatch from './0006_dispatch';
import * as certificates from './0007_certificates';
import * as billing from './0008_billing';
import * as gitCredentials from './0009_git_credentials';
import * as routingVersion from './0010_routing_version';
import * as pauseHistoryWhen from './0011_pause_history_when';

export interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
}

export const migrations: readonly Migration[] = [
  { name: '0001_core', up: core.up },
  { name: '0002_placement', up: placement.up },
  { name: '0003_allocation_status', up: allocationStatus.up },
  { name: '0004_allocation_metrics', up: allocationMetrics.up },
  { name: '0005_app_lifecycle', up: appLifecycle.up },
  { name: '0006_dispatch', up: dispatch.up },
  { name: '0007_certificates', up: certificates.up },
  { name: '0008_billing', up: billing.up },
  { name: '0009_git_credentials', up: gitCredentials.up },
  { name: '0010_routing_version', up: routingVersion.up },
  { name: '0011_pause_history_when', up: pauseHistoryWhen.up },
];
