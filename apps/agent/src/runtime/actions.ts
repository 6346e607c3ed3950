// What the planner decides and the executor does: plain data, one kind per Docker or record change.
import type { DesiredAllocation } from '@karvon/protocol';
import type { FailureKind } from './allocation-records';

export type RemoveReason = 'not-desired' | 'spec-changed' | 'duplicate' | 'dead';

export type Action =
  | { kind: 'create-network'; tenantId: string }
  | { kind: 'remove-network'; networkId: string; name: string }
  /** takes a host port, creates the container on the tenant network, starts it */
  | { kind: 'create-container'; allocation: DesiredAllocation }
  /** `restart`: after a crash (counted, backoff applied); otherwise a first start or a requested one */
  | { kind: 'start-container'; allocationId: string; containerId: string; restart: boolean }
  /** stop reporting the upstream; the stop or removal follows once the drain time has passed */
  | { kind: 'drain'; allocationId: string; containerId: string }
  | { kind: 'stop-container'; allocationId: string; containerId: string }
  /** graceful stop (SIGTERM, then SIGKILL after the stop timeout), then removal */
  | { kind: 'remove-container'; allocationId: string; containerId: string; reason: RemoveReason }
  | { kind: 'mark-healthy'; allocationId: string }
  /** ends the startup CPU boost: the running container gets its plan's CPU limit (docker update) */
  | { kind: 'limit-cpu'; allocationId: string; containerId: string; nanoCpus: number }
  /** terminal until the desired state changes: records the failure with the container's last log lines, stops it */
  | { kind: 'fail'; allocationId: string; containerId: string; failure: FailureKind; detail: string }
  /** a stop request clears a failure and the crash history, so a later start begins afresh */
  | { kind: 'reset'; allocationId: string }
  /** records the port an existing container publishes */
  | { kind: 'adopt-port'; allocationId: string; port: number }
  /** an allocation with neither a desired entry nor a container: its port and record go */
  | { kind: 'forget'; allocationId: string };

export type ActionKind = Action['kind'];

/** A short description for logs. */
export function describeAction(a: Action): Record<string, unknown> {
  const { kind } = a;
  switch (a.kind) {
    case 'create-network':
      return { kind, tenantId: a.tenantId };
    case 'remove-network':
      return { kind, network: a.name };
    case 'create-container':
      return { kind, allocationId: a.allocation.id, image: a.allocation.image };
    case 'remove-container':
      return { kind, allocationId: a.allocationId, containerId: a.containerId.slice(0, 12), reason: a.reason };
    case 'fail':
      return { kind, allocationId: a.allocationId, failure: a.failure, detail: a.detail };
    case 'start-container':
      return { kind, allocationId: a.allocationId, restart: a.restart };
    default:
      return { ...a };
  }
}
