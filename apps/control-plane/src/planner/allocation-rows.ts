// A batch of placements as the columns of the allocation rows it inserts: one array per column,
// which PostgreSQL reads with unnest, and each distinct spec once. Rows sent as one JSON
// document (json_to_recordset) took about 20 µs each to parse under EXPLAIN ANALYZE, mostly
// re-parsing the same spec for every replica: over a quarter of a 2,000-placement commit.
import { newId } from '../db/ids';
import type { AllocationSpec } from './allocation-spec';
import type { PlacementToCommit } from './commit-placements';

export interface AllocationColumns {
  id: string[];
  appId: string[];
  releaseId: Array<string | null>;
  deployId: Array<string | null>;
  replaces: Array<string | null>;
  nodeId: string[];
  cpu: number[];
  memory: number[];
  disk: number[];
  /** each row's spec, as an index into `specs` */
  specAt: number[];
  /** the distinct specs (one object given twice is sent once) */
  specs: AllocationSpec[];
}

export function allocationColumns(batch: readonly PlacementToCommit[]): AllocationColumns {
  const c: AllocationColumns = { id: [], appId: [], releaseId: [], deployId: [], replaces: [], nodeId: [], cpu: [], memory: [], disk: [], specAt: [], specs: [] };
  const specIndex = new Map<AllocationSpec, number>();
  for (const p of batch) {
    let at = specIndex.get(p.spec);
    if (at === undefined) {
      at = c.specs.push(p.spec) - 1;
      specIndex.set(p.spec, at);
    }
    for (const nodeId of p.nodeIds) {
      c.id.push(newId('alloc'));
      c.appId.push(p.appId);
      c.releaseId.push(p.releaseId);
      c.deployId.push(p.deployId ?? null);
      c.replaces.push(p.replaces ?? null);
      c.nodeId.push(nodeId);
      c.cpu.push(p.resources.cpuMillicores);
      c.memory.push(p.resources.memoryMb);
      c.disk.push(p.resources.diskMb);
      c.specAt.push(at);
    }
  }
  return c;
}
