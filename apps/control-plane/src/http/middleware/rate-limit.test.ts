import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import type { DomainError } from '../../domain/errors';
import type { Principal } from '../principal';
import { createMutationLimiters, limitMutations } from './rate-limit';

function run(handler: ReturnType<typeof limitMutations>, method: string, principal?: Partial<Principal>): DomainError | undefined {
  let passed: unknown = 'not called';
  const req = { method, principal: principal && { kind: 'user', userId: 'usr_1', email: 'a@b', role: 'customer', ...principal } } as unknown as Request;
  handler(req, {} as Response, (err?: unknown) => {
    passed = err;
  });
  if (passed === 'not called') throw new Error('next was not called');
  return passed as DomainError | undefined;
}

describe('limitMutations', () => {
  it('bounds bursts within 10 s and the total per minute, with a Retry-After for each', () => {
    let t = 0;
    const handler = limitMutations(createMutationLimiters({ perMinute: 6, burst: 4 }, () => t));
    for (let i = 0; i < 4; i++) expect(run(handler, 'POST', {})).toBeUndefined();
    const burst = run(handler, 'PATCH', {});
    expect(burst?.code).toBe('RATE_LIMITED');
    expect(burst?.details).toEqual({ retryAfterSeconds: 10 });
    // a new 10-second window: the burst budget is back, the minute's is nearly spent
    t = 10_000;
    expect(run(handler, 'DELETE', {})).toBeUndefined();
    const minute = run(handler, 'PUT', {});
    expect(minute?.code).toBe('RATE_LIMITED');
    expect(minute?.details).toEqual({ retryAfterSeconds: 50 });
    t = 60_000;
    expect(run(handler, 'POST', {})).toBeUndefined();
  });

  it('ignores reads, anonymous calls and admins; keys by user', () => {
    const handler = limitMutations(createMutationLimiters({ perMinute: 1, burst: 1 }, () => 0));
    expect(run(handler, 'POST', {})).toBeUndefined();
    expect(run(handler, 'POST', {})?.code).toBe('RATE_LIMITED');
    expect(run(handler, 'POST', { kind: 'api-token' })?.code).toBe('RATE_LIMITED');
    expect(run(handler, 'GET', {})).toBeUndefined();
    expect(run(handler, 'POST')).toBeUndefined();
    expect(run(handler, 'POST', { userId: 'usr_2' })).toBeUndefined();
    expect(run(handler, 'POST', { userId: 'usr_3', role: 'admin' })).toBeUndefined();
    expect(run(handler, 'POST', { userId: 'usr_3', role: 'admin' })).toBeUndefined();
  });
});
