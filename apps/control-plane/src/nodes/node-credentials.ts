import { DomainError } from '../domain/errors';
import type { TokenSigner } from '../auth/jwt';
import { hashSecret, secretKind } from '../auth/secret-tokens';

export type AgentClaims = Record<string, never>;

/** The node holding a credential (by its hash), if any: hub/node-lookups batches many in one statement. */
export type CredentialLookup = (credentialHash: string) => Promise<{ id: string; revoked: boolean } | undefined>;

/**
 * A node's long-lived credential buys short-lived agent JWTs (audience `agent`, subject the node
 * id). A revoked node is told so distinctly, so its agent stops retrying instead of looping.
 */
export async function exchangeCredential(
  lookup: CredentialLookup,
  signer: TokenSigner<AgentClaims>,
  credential: string,
): Promise<{ token: string; expiresAt: string; nodeId: string }> {
  if (secretKind(credential) !== 'kvn') throw new DomainError('UNAUTHENTICATED', 'not a node credential');
  const node = await lookup(hashSecret(credential));
  if (!node) throw new DomainError('UNAUTHENTICATED', 'unknown node credential');
  if (node.revoked) throw new DomainError('UNAUTHENTICATED', 'node revoked', { reason: 'NODE_REVOKED' });
  const { token, expiresAt } = await signer.sign(node.id, {});
  return { token, expiresAt: expiresAt.toISOString(), nodeId: node.id };
}
