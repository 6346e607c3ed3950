import { randomBytes } from 'node:crypto';
import type { Task } from '@karvon/protocol';
import { describe, expect, it } from 'vitest';
import type { AppRow } from '../apps/app-row';
import { deployKeyAad, gitTokenAad } from '../apps/git-credentials';
import { createSecretBox } from '../secrets/secret-box';
import { openBuildTaskSecrets } from './build-task-secrets';
import type { BuildRow } from './build-row';
import { buildTaskSpec } from './build-task-spec';

const box = createSecretBox({ current: { id: 'k1', key: randomBytes(32) } });
const app = (over: Partial<AppRow>): AppRow => ({ id: 'app_aaaaaaaaaaaaaaaaaaaa', owner_id: 'usr_aaaaaaaaaaaaaaaaaaaa', source: { type: 'git', url: 'https://h.example/r.git', branch: 'main' }, ...over }) as AppRow;
const build = { id: 'bld_aaaaaaaaaaaaaaaaaaaa', commit_sha: null } as unknown as BuildRow;
const asTask = (payload: Task<'build'>['payload']) => ({ id: 'task_1', kind: 'build', idempotencyKey: 'build:x', deadline: new Date().toISOString(), attempt: 1, sessionGeneration: 1, payload }) as Task<'build'>;

describe('build task credentials', () => {
  it('the spec carries the sealed token for https, and the frame the opened one', () => {
    const sealed = box.seal('tok-123', gitTokenAad('app_aaaaaaaaaaaaaaaaaaaa'));
    const spec = buildTaskSpec(app({ git_token_ciphertext: sealed, git_token_username: 'bot', deploy_key_private_ciphertext: 'v1.k1.unused' }), build, { registry: null, branch: 'main' });
    expect(spec.source.auth).toEqual({ type: 'token', username: 'bot', token: sealed });
    expect(JSON.stringify(spec)).not.toContain('tok-123');
    const opened = openBuildTaskSecrets(asTask(spec), box, () => undefined) as Task<'build'>;
    expect(opened.payload.source.auth).toEqual({ type: 'token', username: 'bot', token: 'tok-123' });
    // the stored object itself is not changed
    expect(spec.source.auth).toEqual({ type: 'token', username: 'bot', token: sealed });
  });

  it('the deploy key goes with ssh URLs only, with the known hosts', () => {
    const sealed = box.seal('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n', deployKeyAad('app_aaaaaaaaaaaaaaaaaaaa'));
    const ssh = app({ source: { type: 'git', url: 'git@h.example:r.git', branch: 'main' }, deploy_key_private_ciphertext: sealed, git_known_hosts: 'h.example ssh-ed25519 AAAA\n', git_token_ciphertext: 'v1.k1.x' });
    const spec = buildTaskSpec(ssh, build, { registry: null, branch: 'main' });
    expect(spec.source.auth).toEqual({ type: 'ssh-key', privateKey: sealed, knownHosts: 'h.example ssh-ed25519 AAAA\n' });
    expect((openBuildTaskSecrets(asTask(spec), box, () => undefined) as Task<'build'>).payload.source.auth).toMatchObject({ privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n' });
    expect(buildTaskSpec(app({}), build, { registry: null, branch: 'main' }).source.auth).toBeUndefined();
  });

  it('a value that does not open is left out and reported, never sent sealed', () => {
    const other = createSecretBox({ current: { id: 'k2', key: randomBytes(32) } });
    const spec = buildTaskSpec(app({ git_token_ciphertext: other.seal('t', gitTokenAad('app_aaaaaaaaaaaaaaaaaaaa')) }), build, { registry: null, branch: 'main' });
    const errors: string[] = [];
    const sent = openBuildTaskSecrets(asTask(spec), box, (_e, id) => errors.push(id)) as Task<'build'>;
    expect(sent.payload.source.auth).toBeUndefined();
    expect(errors).toEqual(['task_1']);
    const noop = { id: 't', kind: 'noop', idempotencyKey: 'n', deadline: new Date().toISOString(), attempt: 1, sessionGeneration: 1, payload: {} } as Task;
    expect(openBuildTaskSecrets(noop, box, () => undefined)).toBe(noop);
  });
});
