import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import { hashSecret, newSecret } from '../auth/secret-tokens';

export interface RegistrationTokenRequest {
  region: string;
  labels: string[];
  ttlSeconds: number;
  createdBy: string;
}

export interface IssuedRegistrationToken {
  id: string;
  token: string;
  expiresAt: string;
}

export async function createRegistrationToken(db: Db, req: RegistrationTokenRequest): Promise<IssuedRegistrationToken> {
  const region = await db('regions').where({ id: req.region }).first<{ id: string } | undefined>('id');
  if (!region) throw new DomainError('VALIDATION_FAILED', `region: no region ${req.region}`, { fields: [{ path: 'region', message: 'unknown region' }] });
  const token = newSecret('kvj');
  const [row] = await db('node_registration_tokens')
    .insert({
      id: newId('njt'),
      token_hash: hashSecret(token),
      region_id: req.region,
      labels: JSON.stringify(req.labels),
      expires_at: db.raw(`now() + make_interval(secs => ?)`, [req.ttlSeconds]),
      created_by: req.createdBy,
    })
    .returning<Array<{ id: string; expires_at: Date }>>(['id', 'expires_at']);
  return { id: row!.id, token, expiresAt: row!.expires_at.toISOString() };
}

/** The one-line command an operator pastes on a fresh server (scripts/install-agent.sh). */
export function installCommand(publicUrl: string, token: string): string {
  return `curl -fsSL ${publicUrl}/agent/install.sh | sudo bash -s -- --control-plane ${publicUrl} --token ${token}`;
}
