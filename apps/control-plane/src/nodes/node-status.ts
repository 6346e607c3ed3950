/** What an operator sees: an admin decision (draining, disabled) wins over liveness. */
export type NodeStatus = 'online' | 'suspect' | 'offline' | 'draining' | 'disabled';
export type AdminStatus = 'active' | 'draining' | 'disabled';
export type Liveness = 'online' | 'suspect' | 'offline';

export function nodeStatus(admin: AdminStatus, liveness: Liveness): NodeStatus {
  return admin === 'active' ? liveness : admin;
}
