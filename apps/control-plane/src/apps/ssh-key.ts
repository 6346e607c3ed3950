// Ed25519 key pairs in OpenSSH's own formats, pure: the public key as an authorized_keys line
// (`ssh-ed25519 AAAA… comment`) and the private key as an unencrypted `openssh-key-v1` file, the
// one format ssh reads for Ed25519 (it refuses Node's PKCS#8 PEM). The fingerprint is what
// `ssh-keygen -l` prints (`SHA256:…`), so a user can match it against the git host's list.
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

export interface SshKeyPair {
  /** `ssh-ed25519 <base64 blob> <comment>` */
  publicKey: string;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` … */
  privateKey: string;
  /** `SHA256:<unpadded base64>` of the public blob */
  fingerprint: string;
}

const KEY_TYPE = 'ssh-ed25519';

function sshString(data: Buffer | string): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The 32-byte seed and public key of an Ed25519 private key object. */
function rawEd25519(key: KeyObject): { seed: Buffer; pub: Buffer } {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.x) throw new Error('not an Ed25519 private key');
  return { seed: Buffer.from(jwk.d, 'base64url'), pub: Buffer.from(jwk.x, 'base64url') };
}

export function publicBlob(pub: Buffer): Buffer {
  return Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
}

export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The authorized_keys line and fingerprint for raw key material (exported for tests with fixed keys). */
export function formatPublicKey(pub: Buffer, comment: string): { publicKey: string; fingerprint: string } {
  const blob = publicBlob(pub);
  return { publicKey: `${KEY_TYPE} ${blob.toString('base64')} ${comment}`, fingerprint: sshFingerprint(blob) };
}

/** The unencrypted openssh-key-v1 file for an Ed25519 seed; `check` is the random check integer. */
export function formatPrivateKey(seed: Buffer, pub: Buffer, comment: string, check: number): string {
  const blob = publicBlob(pub);
  let inner = Buffer.concat([uint32(check), uint32(check), sshString(KEY_TYPE), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment)]);
  // Padded with 1, 2, 3, … to the cipher block size ("none": 8).
  const pad = (8 - (inner.length % 8)) % 8;
  inner = Buffer.concat([inner, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0', 'latin1'), sshString('none'), sshString('none'), sshString(''), uint32(1), sshString(blob), sshString(inner)]);
  const b64 = body.toString('base64').match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** A fresh Ed25519 pair; the comment is a label shown by git hosts (`karvon-app-<id>`). */
export function generateSshKeyPair(comment: string): SshKeyPair {
  if (!/^[A-Za-z0-9._@-]{1,100}$/.test(comment)) throw new Error('ssh key comment: 1–100 of A-Z a-z 0-9 . _ @ -');
  const { privateKey } = generateKeyPairSync('ed25519');
  const { seed, pub } = rawEd25519(privateKey);
  return { ...formatPublicKey(pub, comment), privateKey: formatPrivateKey(seed, pub, comment, randomBytes(4).readUInt32BE()) };
}

