// The HTTP-01 pieces together: store (memory + state dir), the task handler, the loopback responder.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '@karvon/protocol';
import { TaskFailure } from '../tasks/task-runner';
import { CHALLENGE_TTL_MS, createChallengeStore } from './challenge-store';
import { startChallengeResponder, type ChallengeResponder } from './challenge-responder';
import { createIssueChallengeHandler } from './issue-challenge-task';
import { httpRequest } from './testing';

const logger = pino({ level: 'silent' });
const ctx = { progress: () => undefined, signal: new AbortController().signal };
const task = (payload: Record<string, unknown>): Task =>
  ({ id: 't1', kind: 'issue-challenge', idempotencyKey: 'k1', deadline: '2030-01-01T00:00:00Z', attempt: 1, sessionGeneration: 1, payload }) as Task;
const install = { hostname: 'shop.example.com', token: 'tok_ABC-123', keyAuthorization: 'tok_ABC-123.thumbprint_XYZ', action: 'install' };

describe('HTTP-01 challenges', () => {
  let stateDir: string;
  let responder: ChallengeResponder | undefined;
  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'karvon-acme-'));
  });
  afterEach(async () => {
    await responder?.close();
    responder = undefined;
    await rm(stateDir, { recursive: true, force: true });
  });

  const get = (urlPath: string, host = 'shop.example.com', method = 'GET') => httpRequest(responder!.port, urlPath, host, method);

  it('answers an installed token for its hostname, 404s for anything else, and after removal', async () => {
    const store = createChallengeStore(stateDir);
    const handle = createIssueChallengeHandler(store);
    responder = await startChallengeResponder({ answers: store, port: 0, logger });
    expect(await handle(task(install), ctx)).toEqual({ token: 'tok_ABC-123', action: 'install', installed: true });

    const ok = await get('/.well-known/acme-challenge/tok_ABC-123', 'shop.example.com:80');
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('tok_ABC-123.thumbprint_XYZ');
    expect(ok.contentType).toMatch(/^text\/plain/);
    expect((await get('/.well-known/acme-challenge/tok_ABC-123', 'other.example.com')).status).toBe(404);
    expect((await get('/.well-known/acme-challenge/unknown')).status).toBe(404);
    expect((await get('/.well-known/acme-challenge/..%2f..%2fetc')).status).toBe(404);
    expect((await get('/.well-known/acme-challenge/tok_ABC-123', 'shop.example.com', 'POST')).status).toBe(405);

    expect(await handle(task({ ...install, action: 'remove' }), ctx)).toEqual({ token: 'tok_ABC-123', action: 'remove', removed: true });
    expect((await get('/.well-known/acme-challenge/tok_ABC-123')).status).toBe(404);
    // Redelivered: the same effect as once.
    expect(await handle(task({ ...install, action: 'remove' }), ctx)).toEqual({ token: 'tok_ABC-123', action: 'remove', removed: false });
  });

  it('answers 503 on every other path: the backend of routes with no healthy upstream', async () => {
    responder = await startChallengeResponder({ answers: createChallengeStore(stateDir), port: 0, logger });
    expect((await get('/')).status).toBe(503);
    expect((await get('/.well-known/other')).status).toBe(503);
  });

  it('keeps tokens across a restart (state dir, 0600) and forgets them after the TTL', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const first = createChallengeStore(stateDir, () => now);
    await createIssueChallengeHandler(first)(task(install), ctx);
    const file = path.join(stateDir, 'acme-challenges.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = createChallengeStore(stateDir, () => now);
    await second.load();
    expect(second.answer('tok_ABC-123', 'shop.example.com')).toBe('tok_ABC-123.thumbprint_XYZ');

    now += CHALLENGE_TTL_MS + 1;
    expect(second.answer('tok_ABC-123', 'shop.example.com')).toBeUndefined();
    const third = createChallengeStore(stateDir, () => now);
    await third.load();
    expect(third.size).toBe(0);
  });

  it('refuses a state file that does not parse rather than serving from it', async () => {
    await writeFile(path.join(stateDir, 'acme-challenges.json'), JSON.stringify({ challenges: [{ token: 'a b', hostname: 'x', keyAuthorization: 'y', installedAt: 'now' }] }));
    await expect(createChallengeStore(stateDir).load()).rejects.toThrow();
  });

  it.each([
    [{ ...install, token: 'a/b' }, 'INVALID_CHALLENGE'],
    [{ ...install, token: '' }, 'INVALID_CHALLENGE'],
    [{ ...install, keyAuthorization: 'x\n<script>' }, 'INVALID_CHALLENGE'],
    [{ ...install, hostname: 'a.com`) || Host(`b.com' }, 'INVALID_CHALLENGE'],
    [{ ...install, hostname: 'app.localhost' }, 'INVALID_HOSTNAME'],
    [{ ...install, hostname: '127.0.0.1' }, 'INVALID_HOSTNAME'],
    [{ ...install, action: 'explode' }, 'INVALID_CHALLENGE'],
  ])('refuses a bad spec %j with %s and installs nothing', async (payload, code) => {
    const store = createChallengeStore(stateDir);
    const failure = await createIssueChallengeHandler(store)(task(payload), ctx).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TaskFailure);
    expect((failure as TaskFailure).code).toBe(code);
    expect(store.size).toBe(0);
    await expect(readFile(path.join(stateDir, 'acme-challenges.json'))).rejects.toThrow(/ENOENT/);
  });

  it('listens on loopback only', async () => {
    responder = await startChallengeResponder({ answers: createChallengeStore(stateDir), port: 0, logger });
    const res = await fetch(`http://localhost:${responder.port}/`).catch(() => undefined);
    // localhost may resolve to ::1 first, where nothing listens; 127.0.0.1 answers.
    expect(res === undefined || res.status === 503).toBe(true);
    expect((await fetch(`http://127.0.0.1:${responder.port}/`)).status).toBe(503);
  });
});
