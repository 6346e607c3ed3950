// One ACME account per installation (and directory): the key is generated once, sealed with the
// secret box, and shared by every control plane through PostgreSQL. Two control planes starting at
// once both generate a key, one insert wins, and both use the winner's.
import * as acme from 'acme-client';
import type { Db } from '../db/connect';
import type { SecretBox } from '../secrets/secret-box';

export const accountKeyAad = (directoryUrl: string) => `acme-account:${directoryUrl}`;

export interface AcmeAccount {
  accountKeyPem: string;
  accountUrl: string | undefined;
}

interface AccountRow {
  account_key_ciphertext: string;
  account_url: string | null;
}

export async function loadOrCreateAccount(db: Db, secrets: SecretBox, directoryUrl: string): Promise<AcmeAccount> {
  let row = await db('acme_accounts').where({ directory_url: directoryUrl }).first<AccountRow | undefined>();
  if (!row) {
    const key = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString('utf8');
    await db('acme_accounts').insert({ directory_url: directoryUrl, account_key_ciphertext: secrets.seal(key, accountKeyAad(directoryUrl)) }).onConflict('directory_url').ignore();
    row = await db('acme_accounts').where({ directory_url: directoryUrl }).first<AccountRow>();
  }
  return { accountKeyPem: secrets.open(row.account_key_ciphertext, accountKeyAad(directoryUrl)), accountUrl: row.account_url ?? undefined };
}

export async function saveAccountUrl(db: Db, directoryUrl: string, accountUrl: string): Promise<void> {
  await db('acme_accounts').where({ directory_url: directoryUrl }).update({ account_url: accountUrl });
}
