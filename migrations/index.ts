// Forward-only, numbered migrations, imported statically so the bundled control plane carries them.
// Add a file `NNNN_name.ts` exporting `up`, and list it here in order; never edit a landed one.
import type { Knex } from 'knex';
import * as core from './0001_core';
import * as placement from './0002_placement';
import * as allocationStatus from './0003_allocation_status';

export interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
}

export const migrations: readonly Migration[] = [
  { name: '0001_core', up: core.up },
  { name: '0002_placement', up: placement.up },
  { name: '0003_allocation_status', up: allocationStatus.up },
];
