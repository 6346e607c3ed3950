import { execFile as execFileCb } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPrivateKey, formatPublicKey, generateSshKeyPair } from './ssh-key';

const execFile = promisify(execFileCb);

describe('ssh keys in OpenSSH formats', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'karvon-sshkey-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ssh-keygen reads the private key and derives the same public key and fingerprint', async () => {
    const pair = generateSshKeyPair('karvon-app-app_0123456789abcdefghij');
    expect(pair.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} karvon-app-app_0123456789abcdefghij$/);
    expect(pair.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
    const keyFile = path.join(dir, 'id');
    await writeFile(keyFile, pair.privateKey, { mode: 0o600 });
    const { stdout: pub } = await execFile('ssh-keygen', ['-y', '-f', keyFile]);
    expect(pub.trim()).toBe(pair.publicKey);
    await writeFile(`${keyFile}.pub`, `${pair.publicKey}\n`);
    const { stdout: fp } = await execFile('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${keyFile}.pub`]);
    expect(fp).toContain(pair.fingerprint);
    expect(pair.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('is deterministic for fixed key material (RFC 8032 test vector 1) and pads to 8 bytes', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const pub = Buffer.from(createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).x!, 'base64url');
    expect(pub.toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const { publicKey } = formatPublicKey(pub, 'c');
    expect(publicKey).toBe(`ssh-ed25519 ${Buffer.concat([Buffer.from('0000000b7373682d65643235353139' + '00000020', 'hex'), pub]).toString('base64')} c`);
    const body = Buffer.from(formatPrivateKey(seed, pub, 'c', 0x01020304).split('\n').slice(1, -2).join(''), 'base64');
    expect(body.subarray(0, 15).toString('latin1')).toBe('openssh-key-v1\0');
    // The private section (the last string) is a multiple of 8 bytes and starts with the check ints twice.
    const blobLen = body.readUInt32BE(15 + 8 + 8 + 4 + 4);
    const privStart = 15 + 8 + 8 + 4 + 4 + 4 + blobLen;
    const privLen = body.readUInt32BE(privStart);
    expect(privLen % 8).toBe(0);
    expect(body.subarray(privStart + 4, privStart + 12).toString('hex')).toBe('0102030401020304');
    expect(privStart + 4 + privLen).toBe(body.length);
  });

  it('refuses a comment that is not a plain label', () => {
    expect(() => generateSshKeyPair('x y')).toThrow(/comment/);
    expect(() => generateSshKeyPair('')).toThrow(/comment/);
  });
});
