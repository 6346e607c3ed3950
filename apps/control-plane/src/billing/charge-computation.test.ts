import { describe, expect, it } from 'vitest';
import { chargeAmount, replicaSecondsInHour, runningMsInHour, type AllocationLife } from './charge-computation';

const H = new Date('2030-01-01T10:00:00Z');
const at = (min: number, sec = 0) => new Date(H.getTime() + min * 60_000 + sec * 1000);
const life = (from: number | Date, to: number | Date | null, pauses: Array<[number, number | null]> = []): AllocationLife => ({
  createdAt: typeof from === 'number' ? at(from) : from,
  stoppedAt: to === null ? null : typeof to === 'number' ? at(to) : to,
  pauses: pauses.map(([f, t]) => ({ from: at(f), to: t === null ? null : at(t) })),
});

describe('runningMsInHour', () => {
  it.each<[string, AllocationLife, number]>([
    ['placed before, still live', life(-120, null), 60],
    ['placed before, retired after', life(-5, 75), 60],
    ['runs 20 minutes inside the hour', life(10, 30), 20],
    ['placed at :40, still live', life(40, null), 20],
    ['retired at :15', life(-10, 15), 15],
    ['retired before the hour', life(-30, -1), 0],
    ['placed after the hour', life(61, null), 0],
    ['retired exactly at the hour start', life(-30, 0), 0],
    ['placed exactly at the hour end', life(60, null), 0],
    ['paused :15-:45', life(-10, null, [[15, 45]]), 30],
    ['paused since before the hour, still paused', life(-100, null, [[-50, null]]), 0],
    ['paused before, resumed at :20', life(-100, null, [[-50, 20]]), 40],
    ['overlapping pauses count once', life(0, null, [[10, 30], [20, 40]]), 30],
    ['a pause outside its life changes nothing', life(10, 30, [[40, 50]]), 20],
    ['two pauses', life(0, null, [[0, 10], [50, null]]), 40],
  ])('%s', (_name, a, minutes) => {
    expect(runningMsInHour(a, H)).toBe(minutes * 60_000);
  });
});

describe('replicaSecondsInHour', () => {
  it('adds replicas and floors to whole seconds', () => {
    expect(replicaSecondsInHour([life(0, 30), life(30, null)], H)).toBe(3600);
    expect(replicaSecondsInHour([life(0, null), life(0, null)], H)).toBe(7200);
    expect(replicaSecondsInHour([{ createdAt: new Date(H.getTime() + 500), stoppedAt: new Date(H.getTime() + 2_400), pauses: [] }], H)).toBe(1);
    expect(replicaSecondsInHour([], H)).toBe(0);
  });
});

describe('chargeAmount', () => {
  it.each([
    [3600, 3600, 3600],
    [3600, 1200, 1200], // 20 minutes of a 3600/h plan
    [100, 1200, 33], // 33.33 → 33
    [100, 1818, 51], // 50.5 → 51 (half up)
    [100, 1782, 50], // 49.5 → 50
    [100, 0, 0],
    [0, 3600, 0],
    [1, 1799, 0], // 0.4997 → 0
    [1, 1800, 1], // 0.5 → 1
    [10_000_000_000, 360_000, 1_000_000_000_000], // 100 replica-hours of a big plan, exact
  ])('price %i × %i s → %i', (price, seconds, amount) => {
    expect(chargeAmount(price, seconds)).toBe(amount);
  });

  it('refuses what cannot be a price or a duration', () => {
    expect(() => chargeAmount(-1, 10)).toThrow(RangeError);
    expect(() => chargeAmount(1.5, 10)).toThrow(RangeError);
    expect(() => chargeAmount(1, -1)).toThrow(RangeError);
  });
});
