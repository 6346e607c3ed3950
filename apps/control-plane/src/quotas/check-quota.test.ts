import { describe, expect, it } from 'vitest';
import { DomainError } from '../domain/errors';
import { ERROR_STATUS } from '../http/error-status';
import { appQuotaChange, assertQuota, checkQuota, type Usage } from './check-quota';
import { TIER_LIMITS, TIER_NAMES, tierOf } from './tiers';

const empty: Usage = { projects: 0, apps: 0, cpuMillicores: 0, memoryMb: 0 };
const small = { cpuMillicores: 500, memoryMb: 512 };

describe('tier table', () => {
  it('grows with each tier on every limit', () => {
    for (let i = 1; i < TIER_NAMES.length; i++) {
      const lower = TIER_LIMITS[TIER_NAMES[i - 1]!];
      const higher = TIER_LIMITS[TIER_NAMES[i]!];
      for (const k of Object.keys(lower) as (keyof typeof lower)[]) expect(higher[k]).toBeGreaterThan(lower[k]);
    }
  });

  it('reads unknown or missing tiers as free', () => {
    expect(tierOf('business')).toBe('business');
    expect(tierOf('platinum')).toBe('free');
    expect(tierOf(null)).toBe('free');
    expect(tierOf('__proto__')).toBe('free');
  });
});

describe('checkQuota', () => {
  it('lets a change up to the limit through', () => {
    const free = TIER_LIMITS.free;
    expect(checkQuota({ ...empty, projects: free.maxProjects - 1 }, 'free', { projects: 1 })).toBeUndefined();
    expect(checkQuota(empty, 'free', { apps: 1, cpuMillicores: free.maxCpuMillicores, memoryMb: free.maxMemoryMb, replicas: free.maxReplicasPerApp })).toBeUndefined();
  });

  it('answers the limit, its value and the requested total', () => {
    expect(checkQuota({ ...empty, projects: 3 }, 'free', { projects: 1 })).toEqual({ limit: 'maxProjects', limitValue: 3, requested: 4, tier: 'free' });
    expect(checkQuota({ ...empty, apps: 5 }, 'free', { apps: 1 })).toEqual({ limit: 'maxApps', limitValue: 5, requested: 6, tier: 'free' });
    expect(checkQuota({ ...empty, cpuMillicores: 1_800 }, 'free', { cpuMillicores: 500 })).toEqual({ limit: 'maxCpuMillicores', limitValue: 2_000, requested: 2_300, tier: 'free' });
    expect(checkQuota({ ...empty, memoryMb: 2_000 }, 'free', { memoryMb: 100 })).toMatchObject({ limit: 'maxMemoryMb', requested: 2_100 });
    expect(checkQuota(empty, 'free', { replicas: 3 })).toEqual({ limit: 'maxReplicasPerApp', limitValue: 2, requested: 3, tier: 'free' });
  });

  it('answers the first exceeded limit when several are', () => {
    const full: Usage = { projects: 3, apps: 5, cpuMillicores: 2_000, memoryMb: 2_048 };
    expect(checkQuota(full, 'free', { apps: 1, cpuMillicores: 500, memoryMb: 512, replicas: 1 })?.limit).toBe('maxApps');
    expect(checkQuota(full, 'free', { apps: 1, cpuMillicores: 500, replicas: 9 })?.limit).toBe('maxReplicasPerApp');
  });

  it('uses the caller tier', () => {
    expect(checkQuota({ ...empty, apps: 5 }, 'standard', { apps: 1 })).toBeUndefined();
    expect(checkQuota(empty, 'business', { replicas: 50 })).toBeUndefined();
  });

  it('never refuses shrinking, even above a limit (after a tier downgrade)', () => {
    const over: Usage = { projects: 10, apps: 20, cpuMillicores: 10_000, memoryMb: 10_000 };
    expect(checkQuota(over, 'free', { apps: -1, cpuMillicores: -500, memoryMb: -512 })).toBeUndefined();
    expect(checkQuota(over, 'free', {})).toBeUndefined();
  });
});

describe('assertQuota', () => {
  it('refuses with QUOTA_EXCEEDED (422) naming the limit, its value and the requested total', () => {
    let caught: unknown;
    try {
      assertQuota({ ...empty, apps: 5 }, 'free', { apps: 1 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(DomainError);
    const err = caught as DomainError;
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(ERROR_STATUS[err.code]).toBe(422);
    expect(err.details).toEqual({ limit: 'maxApps', limitValue: 5, requested: 6, tier: 'free' });
    expect(err.message).toMatch(/maxApps is 5 on the free tier/);
  });
});

describe('appQuotaChange', () => {
  it('creating adds an app and plan × replicas', () => {
    expect(appQuotaChange({ plan: small, replicas: 2 })).toEqual({ apps: 1, cpuMillicores: 1_000, memoryMb: 1_024, replicas: 2 });
  });

  it('scaling adds the difference and checks replicas only when they grow', () => {
    expect(appQuotaChange({ plan: small, replicas: 3 }, { plan: small, replicas: 1 })).toEqual({ apps: 0, cpuMillicores: 1_000, memoryMb: 1_024, replicas: 3 });
    expect(appQuotaChange({ plan: small, replicas: 1 }, { plan: small, replicas: 3 })).toEqual({ apps: 0, cpuMillicores: -1_000, memoryMb: -1_024 });
  });

  it('changing plan counts the new size against the old', () => {
    const big = { cpuMillicores: 2_500, memoryMb: 4_096 };
    const change = appQuotaChange({ plan: big, replicas: 1 }, { plan: small, replicas: 1 });
    expect(change).toEqual({ apps: 0, cpuMillicores: 2_000, memoryMb: 3_584 });
    expect(checkQuota({ ...empty, apps: 1, cpuMillicores: 500, memoryMb: 512 }, 'free', change)?.limit).toBe('maxCpuMillicores');
  });

  it('deleting gives everything back', () => {
    expect(appQuotaChange(undefined, { plan: small, replicas: 2 })).toEqual({ apps: -1, cpuMillicores: -1_000, memoryMb: -1_024 });
  });
});
