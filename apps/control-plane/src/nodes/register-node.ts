import type { NodeFacts } from '@karvon/protocol';
import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import { hashSecret, newSecret } from '../auth/secret-tokens';
import { capacityFromFacts } from './capacity';

export interface RegisteredNode {
  nodeId: string;
  credential: string;
}

/**
 * Trades a registration token for a node and its credential, in one transaction: the token is
 * claimed with a conditional update, so a used, expired or unknown token creates nothing, and two
 * agents racing with one token cannot both register.
 */
export async function registerNode(
  db: Db,
  input: { token: string; name: string; facts: NodeFacts; agentVersion: string },
): Promise<RegisteredNode> {
  return db.transaction(async (trx) => {
    const claimed = await trx('node_registration_tokens')
      .where({ token_hash: hashSecret(input.token) })
      .whereNull('used_at')
      .where('expires_at', '>', trx.fn.now())
      .update({ used_at: trx.fn.now() })
      .returning<Array<{ id: string; region_id: string; labels: string[] }>>(['id', 'region_id', 'labels']);
    const grant = claimed[0];
    if (!grant) throw new DomainError('UNAUTHENTICATED', 'registration token is unknown, expired or already used');
    const nodeId = newId('node');
    const credential = newSecret('kvn');
    const capacity = capacityFromFacts(input.facts);
    await trx('nodes').insert({
      id: nodeId,
      name: input.name,
      region_id: grant.region_id,
      labels: JSON.stringify(grant.labels),
      credential_hash: hashSecret(credential),
      facts: JSON.stringify(input.facts),
      capacity_cpu_millicores: capacity.cpuMillicores,
      capacity_memory_mb: capacity.memoryMb,
      capacity_disk_mb: capacity.diskMb,
      agent_version: input.agentVersion,
    });
    await trx('node_registration_tokens').where({ id: grant.id }).update({ node_id: nodeId });
    return { nodeId, credential };
  });
}
