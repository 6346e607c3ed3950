import { describe, expect, it } from 'vitest';
import { backoffMs, identifierSetKey, isRenewalDue, orderBudget, renewalAt, type PastOrder } from './renewal-policy';

const d = (iso: string) => new Date(iso);
const DAY = 86_400_000;

describe('renewal', () => {
  const cert = { notBefore: d('2025-01-01T00:00:00Z'), notAfter: d('2025-04-01T00:00:00Z') }; // 90 days
  it('is due when a third of the lifetime is left', () => {
    expect(renewalAt(cert)!.toISOString()).toBe('2025-03-02T00:00:00.000Z');
    expect(isRenewalDue(cert, d('2025-03-01T23:59:59Z'))).toBe(false);
    expect(isRenewalDue(cert, d('2025-03-02T00:00:00Z'))).toBe(true);
  });
  it('takes another fraction (tests renew at once with 1)', () => {
    expect(isRenewalDue(cert, d('2025-01-01T00:00:00Z'), 1)).toBe(true);
    expect(isRenewalDue(cert, d('2025-01-01T00:00:00Z'), 0.5)).toBe(false);
  });
  it('is due at once without a certificate', () => {
    expect(isRenewalDue({ notBefore: null, notAfter: null }, d('2025-01-01T00:00:00Z'))).toBe(true);
  });
});

describe('backoff', () => {
  it('doubles from one minute and stops at six hours', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n))).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(backoffMs(9)).toBe(256 * 60_000);
    expect(backoffMs(10)).toBe(6 * 3_600_000);
    expect(backoffMs(1000)).toBe(6 * 3_600_000);
    expect(backoffMs(0)).toBe(60_000);
  });
});

describe('orderBudget', () => {
  const now = d('2025-06-10T12:00:00Z');
  const ago = (ms: number, outcome: PastOrder['outcome']): PastOrder => ({ outcome, createdAt: new Date(now.getTime() - ms) });

  it('allows orders under both limits', () => {
    expect(orderBudget([ago(DAY, 'issued'), ago(2 * DAY, 'issued'), ago(10 * 60_000, 'failed')], now)).toEqual({ allowed: true });
  });
  it('refuses a sixth certificate for the same names within a week, until the oldest leaves the window', () => {
    const past = [1, 2, 3, 4, 5].map((n) => ago(n * DAY, 'issued'));
    const r = orderBudget(past, now);
    expect(r.allowed).toBe(false);
    if (!r.allowed) {
      expect(r.retryAt.toISOString()).toBe(new Date(now.getTime() + 2 * DAY).toISOString());
      expect(r.reason).toMatch(/last 7 days/);
    }
    expect(orderBudget([...past.slice(1), ago(8 * DAY, 'issued')], now)).toEqual({ allowed: true });
  });
  it('counts a pending order as possibly issued and possibly failed', () => {
    expect(orderBudget([1, 2, 3, 4].map((n) => ago(n * DAY, 'issued')).concat(ago(1000, 'pending')), now).allowed).toBe(false);
    expect(orderBudget([1, 2, 3, 4].map((n) => ago(n * 60_000, 'failed')).concat(ago(1000, 'pending')), now).allowed).toBe(false);
  });
  it('refuses after five failures in an hour', () => {
    const past = [1, 2, 3, 4, 5].map((n) => ago(n * 60_000, 'failed'));
    const r = orderBudget(past, now);
    expect(r.allowed).toBe(false);
    if (!r.allowed) expect(r.retryAt.toISOString()).toBe(new Date(now.getTime() + 55 * 60_000).toISOString());
    expect(orderBudget(past.slice(0, 4).concat(ago(61 * 60_000, 'failed')), now)).toEqual({ allowed: true });
  });
  it('keys identifier sets independent of order and repeats', () => {
    expect(identifierSetKey(['b.com', 'a.com', 'b.com'])).toBe('a.com,b.com');
  });
});
