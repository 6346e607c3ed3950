import { describe, expect, it } from 'vitest';
import { decideStanding, type StandingInput } from './wallet-standing';

const T0 = new Date('2030-01-01T00:00:00Z');
const h = (n: number) => new Date(T0.getTime() + n * 3_600_000);
const GRACE = 24 * 3_600_000;
const fresh: StandingInput = { status: 'active', lowSince: null, graceStartedAt: null, suspendedAt: null, balance: 0, hourlyUsage: 100 };
const kinds = (d: ReturnType<typeof decideStanding>) => d.notify.map((n) => n.kind);

describe('decideStanding', () => {
  it('stays active while the balance covers 24 hours of usage', () => {
    const d = decideStanding({ ...fresh, balance: 2400 }, h(1), GRACE);
    expect(d).toEqual({ next: { status: 'active', lowSince: null, graceStartedAt: null, suspendedAt: null }, notify: [], apps: 'keep' });
  });

  it('turns low below 24 hours of usage and notifies once per episode', () => {
    const first = decideStanding({ ...fresh, balance: 2399 }, h(1), GRACE);
    expect(first.next).toMatchObject({ status: 'low', lowSince: h(1) });
    expect(kinds(first)).toEqual(['wallet.low']);
    const again = decideStanding({ ...fresh, ...first.next, balance: 2000 }, h(2), GRACE);
    expect(again.next).toMatchObject({ status: 'low', lowSince: h(1) });
    expect(again.notify).toEqual([]);
  });

  it('ends the episode when the balance covers usage again', () => {
    const d = decideStanding({ ...fresh, status: 'low', lowSince: h(1), balance: 5000 }, h(2), GRACE);
    expect(d.next).toEqual({ status: 'active', lowSince: null, graceStartedAt: null, suspendedAt: null });
  });

  it('starts the grace period at zero, telling when the apps will stop', () => {
    const d = decideStanding({ ...fresh, status: 'low', lowSince: h(1), balance: 0 }, h(5), GRACE);
    expect(d.next).toEqual({ status: 'low', lowSince: h(1), graceStartedAt: h(5), suspendedAt: null });
    expect(d.notify).toEqual([{ kind: 'wallet.grace', episode: h(5), suspendAt: h(29) }]);
    expect(d.apps).toBe('keep');
  });

  it('goes straight from active to low and grace when one charge crosses zero', () => {
    expect(kinds(decideStanding({ ...fresh, balance: -5 }, h(1), GRACE))).toEqual(['wallet.low', 'wallet.grace']);
  });

  it('keeps the apps during the grace period and suspends them when it is over', () => {
    const inGrace = { ...fresh, status: 'low' as const, lowSince: h(1), graceStartedAt: h(5), balance: -300 };
    expect(decideStanding(inGrace, h(28), GRACE)).toMatchObject({ next: { status: 'low' }, notify: [], apps: 'keep' });
    const over = decideStanding(inGrace, h(29), GRACE);
    expect(over).toMatchObject({ next: { status: 'suspended', graceStartedAt: h(5), suspendedAt: h(29) }, apps: 'suspend' });
    expect(kinds(over)).toEqual(['wallet.suspended']);
    // Suspended stays suspended, without telling again; apps are kept stopped.
    const later = decideStanding({ ...inGrace, ...over.next, balance: -400 }, h(30), GRACE);
    expect(later).toMatchObject({ next: { status: 'suspended', suspendedAt: h(29) }, notify: [], apps: 'suspend' });
  });

  it('suspends at once with a zero grace period', () => {
    expect(decideStanding({ ...fresh, balance: -1 }, h(1), 0)).toMatchObject({ next: { status: 'suspended' }, apps: 'suspend' });
  });

  it('resumes when a top-up brings the balance above zero, clearing the episode', () => {
    const suspended = { ...fresh, status: 'suspended' as const, lowSince: h(1), graceStartedAt: h(5), suspendedAt: h(29), balance: 10_000 };
    const d = decideStanding(suspended, h(40), GRACE);
    expect(d).toMatchObject({ next: { status: 'active', lowSince: null, graceStartedAt: null, suspendedAt: null }, apps: 'resume' });
    expect(kinds(d)).toEqual(['wallet.resumed']);
    // A top-up that leaves the balance short resumes too, and opens a new low episode.
    const short = decideStanding({ ...suspended, balance: 50 }, h(40), GRACE);
    expect(short).toMatchObject({ next: { status: 'low', lowSince: h(40), graceStartedAt: null }, apps: 'resume' });
    expect(kinds(short)).toEqual(['wallet.resumed', 'wallet.low']);
  });

  it('does not resume while the balance is still at or below zero', () => {
    const suspended = { ...fresh, status: 'suspended' as const, lowSince: h(1), graceStartedAt: h(5), suspendedAt: h(29), balance: 0 };
    expect(decideStanding(suspended, h(40), GRACE)).toMatchObject({ next: { status: 'suspended' }, apps: 'suspend', notify: [] });
  });

  it('is active with no usage and any positive balance', () => {
    expect(decideStanding({ ...fresh, hourlyUsage: 0, balance: 1 }, h(1), GRACE).next.status).toBe('active');
  });
});
