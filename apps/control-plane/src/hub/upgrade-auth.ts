import type { IncomingMessage } from 'node:http';
import { DomainError } from '../domain/errors';
import type { TokenSigner } from '../auth/jwt';
import type { AgentClaims } from '../nodes/node-credentials';
import type { NodeLookups } from './node-lookups';

export interface AuthenticatedAgent {
  nodeId: string;
  tokenExpiresAt: number;
}

/**
 * Runs in the server's `upgrade` event, before the WebSocket handshake completes: a request
 * without a valid agent JWT (pinned algorithm, audience `agent`) for a node that still exists
 * never becomes a socket.
 */
export async function authenticateUpgrade(req: IncomingMessage, deps: { nodes: NodeLookups; agentTokens: TokenSigner<AgentClaims> }): Promise<AuthenticatedAgent> {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer (\S{1,4096})$/.exec(header);
  if (!m) throw new DomainError('UNAUTHENTICATED', 'Authorization: Bearer <agent token> is required');
  const claims = await deps.agentTokens.verify(m[1]!);
  const node = await deps.nodes.standing(claims.sub);
  if (!node) throw new DomainError('UNAUTHENTICATED', 'unknown node');
  if (node.revoked) throw new DomainError('UNAUTHENTICATED', 'node revoked', { reason: 'NODE_REVOKED' });
  return { nodeId: node.id, tokenExpiresAt: claims.exp * 1000 };
}
