// Encryption at rest for tenant secrets (env values, webhook secrets, private keys): AES-256-GCM
// with a fresh 96-bit IV per value. Each ciphertext names the key that sealed it, so the master key
// can rotate: the new key seals, previous keys still open, and a re-seal pass moves old values over.
//
//   v1.<keyId>.<base64url(iv[12] | tag[16] | ciphertext)>
//
// The caller's AAD binds a value to where it belongs (an app and a variable name): a ciphertext
// copied to another app's row or another name fails to open instead of leaking across tenants.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { deriveKey } from '../auth/master-key';
import { DomainError } from '../domain/errors';

export interface SecretKey {
  /** short, public name of the key, written into every ciphertext it seals */
  id: string;
  /** 32 bytes */
  key: Buffer;
}

export interface SecretBox {
  /** the key new values are sealed with */
  readonly currentKeyId: string;
  seal(plaintext: string, aad: string): string;
  /** throws DomainError INTERNAL (details.reason: malformed | unknown-key | auth-failed) when it cannot */
  open(ciphertext: string, aad: string): string;
  /** the key a ciphertext was sealed with, so a rotation pass can find values to re-seal */
  keyIdOf(ciphertext: string): string | undefined;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const FORMAT = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)$/;

/** The version and key id are authenticated too, so neither can be edited without detection. */
const fullAad = (keyId: string, aad: string) => Buffer.from(`${VERSION}.${keyId}\0${aad}`, 'utf8');

function unopenable(reason: 'malformed' | 'unknown-key' | 'auth-failed', message: string): DomainError {
  return new DomainError('INTERNAL', `stored secret cannot be opened: ${message}`, { reason });
}

export function createSecretBox(keys: { current: SecretKey; previous?: readonly SecretKey[] }): SecretBox {
  const byId = new Map<string, Buffer>();
  for (const k of [keys.current, ...(keys.previous ?? [])]) {
    if (!KEY_ID.test(k.id)) throw new Error(`secret key id ${JSON.stringify(k.id)}: 1–32 of A-Z a-z 0-9 _ -`);
    if (k.key.length !== 32) throw new Error(`secret key ${k.id}: AES-256 needs 32 bytes, got ${k.key.length}`);
    const known = byId.get(k.id);
    if (known && !known.equals(k.key)) throw new Error(`secret key id ${k.id} names two different keys`);
    byId.set(k.id, Buffer.from(k.key));
  }
  const current = keys.current.id;
  const currentKey = byId.get(current)!;

  return {
    currentKeyId: current,
    seal(plaintext, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(fullAad(current, aad));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${VERSION}.${current}.${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url')}`;
    },
    open(ciphertext, aad) {
      const m = FORMAT.exec(ciphertext);
      if (!m) throw unopenable('malformed', 'not a v1 ciphertext');
      const keyId = m[1]!;
      const key = byId.get(keyId);
      if (!key) throw unopenable('unknown-key', `sealed with key ${keyId}, which this server does not have`);
      const raw = Buffer.from(m[2]!, 'base64url');
      if (raw.length < IV_BYTES + TAG_BYTES) throw unopenable('malformed', 'too short');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(fullAad(keyId, aad));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        // Wrong AAD (moved to another app or name) and tampering look the same, by design.
        throw unopenable('auth-failed', 'integrity check failed');
      }
    },
    keyIdOf(ciphertext) {
      return FORMAT.exec(ciphertext)?.[1];
    },
  };
}

/**
 * The secrets key derived from a master key (HKDF, purpose `secrets-at-rest`) and its id: a short
 * fingerprint of the derived key, so the same master key always gets the same id on every control
 * plane without any id being configured.
 */
export function secretKeyFromMaster(master: Buffer): SecretKey {
  const key = deriveKey(master, 'secrets-at-rest');
  const id = createHash('sha256').update('karvon/secret-key-id/v1\0').update(key).digest('base64url').slice(0, 12);
  return { id, key };
}

/** The box for a control plane: the current master key seals, earlier ones (during a rotation) only open. */
export function secretBoxFromMasterKeys(current: Buffer, previous: readonly Buffer[] = []): SecretBox {
  return createSecretBox({ current: secretKeyFromMaster(current), previous: previous.map(secretKeyFromMaster) });
}
