// A wallet's standing after its balance or its owner's usage changed, decided in pure code
// (wallet-standing.test.ts); account-standing.ts applies the decision.
//
//   balance ≥ 24 h of current usage              active     (a low-balance episode ends)
//   0 < balance < 24 h of current usage          low        (an episode starts: notify once)
//   balance ≤ 0                                  low + grace (grace starts: notify once)
//   balance ≤ 0 for the whole grace period       suspended  (apps stopped: notify)
//   balance > 0 again while suspended            resumed, then active or low as above
//
// "Current usage" is the owner's hourly price of every app that runs or would run again on
// resume (plan price × replicas). Time is the caller's: the end of the billed hour for the hourly
// job, the clock for a top-up, so a re-run of an old hour acts as it did then.

export type WalletStatus = 'active' | 'low' | 'suspended';

/** hours of current usage the balance must cover not to be `low` */
export const LOW_BALANCE_HOURS = 24;

export interface Standing {
  status: WalletStatus;
  lowSince: Date | null;
  graceStartedAt: Date | null;
  suspendedAt: Date | null;
}

export type NotificationKind = 'wallet.low' | 'wallet.grace' | 'wallet.suspended' | 'wallet.resumed';

export interface StandingInput extends Standing {
  balance: number;
  /** minor units per hour of the owner's apps */
  hourlyUsage: number;
}

export interface StandingDecision {
  next: Standing;
  /** what to tell the owner; each kind at most once per episode (keyed by its start) */
  notify: Array<{ kind: NotificationKind; episode: Date; suspendAt?: Date }>;
  /** stop (suspend) or start (resume) the owner's apps */
  apps: 'suspend' | 'resume' | 'keep';
}

export function decideStanding(s: StandingInput, at: Date, graceMs: number): StandingDecision {
  const notify: StandingDecision['notify'] = [];
  if (s.balance <= 0) {
    const lowSince = s.lowSince ?? at;
    const graceStartedAt = s.graceStartedAt ?? at;
    if (!s.lowSince) notify.push({ kind: 'wallet.low', episode: lowSince });
    const suspendAt = new Date(graceStartedAt.getTime() + graceMs);
    if (!s.graceStartedAt) notify.push({ kind: 'wallet.grace', episode: graceStartedAt, suspendAt });
    if (s.status === 'suspended' || at.getTime() >= suspendAt.getTime()) {
      if (s.status !== 'suspended') notify.push({ kind: 'wallet.suspended', episode: graceStartedAt });
      return { next: { status: 'suspended', lowSince, graceStartedAt, suspendedAt: s.suspendedAt ?? at }, notify, apps: 'suspend' };
    }
    return { next: { status: 'low', lowSince, graceStartedAt, suspendedAt: null }, notify, apps: 'keep' };
  }
  // Above zero: a suspension and its episode end; a new episode starts if still short.
  const resumed = s.status === 'suspended';
  if (resumed) notify.push({ kind: 'wallet.resumed', episode: s.suspendedAt ?? s.graceStartedAt ?? at });
  const prior = resumed ? null : s.lowSince;
  if (s.balance < LOW_BALANCE_HOURS * s.hourlyUsage) {
    const lowSince = prior ?? at;
    if (!prior) notify.push({ kind: 'wallet.low', episode: lowSince });
    return { next: { status: 'low', lowSince, graceStartedAt: null, suspendedAt: null }, notify, apps: resumed ? 'resume' : 'keep' };
  }
  return { next: { status: 'active', lowSince: null, graceStartedAt: null, suspendedAt: null }, notify, apps: resumed ? 'resume' : 'keep' };
}
