// Slot sets: which of a region's nodes might fit a request, as bits over the region's node slots
// (a node's position in the region's list), so the scan jumps over nodes that cannot fit without
// reading them. A node's free CPU and free memory are rounded down to a level on a fixed ladder;
// set L holds the slots whose level is at least L. A request reads one set per resource: a
// superset of the nodes where it fits, never a subset. The feasibility chain still decides every
// node the scan lands on.

/** Bits over slots as 32-bit words: slot s is bit `s & 31` of word `s >>> 5`. */
export type SlotBits = Int32Array;

/** Levels per doubling, 2^2 for the shifts in `levelOf`: each step is at most 1.25x the one below. */
const STEPS = 4;
/** Amounts above 2^24 (16,777 cores, 16 TB) share the top level; it only makes the set larger. */
const CAP = 2 ** 24;

/**
 * The ladder: 0 below 1, then 1 + STEPS·⌊log2 x⌋ + the quarter of the octave x falls in, for x
 * rounded down to an integer and capped at CAP. Integer-exact and non-decreasing, so a ≥ b
 * implies levelOf(a) ≥ levelOf(b): the property the superset rests on.
 */
export function levelOf(amount: number): number {
  if (!(amount >= 1)) return 0;
  // Truncating is rounding down here: 1 ≤ x ≤ 2^24.
  const x = (amount < CAP ? amount : CAP) | 0;
  const e = 31 - Math.clz32(x);
  // ⌊x · STEPS / 2^e⌋ − STEPS, the step within the octave, in integer shifts.
  const step = (e >= 2 ? x >>> (e - 2) : (x << 2) >>> e) - STEPS;
  return 1 + STEPS * e + step;
}

/** Level 0 (eligible, any amount) to the level of CAP. */
export const LEVELS = levelOf(CAP) + 1;

/**
 * The level a request for `amount` reads: that of one unit less, so a node that fits by the
 * chain's own arithmetic (allocated + ask ≤ capacity) is in the set even when
 * capacity − allocated comes out a rounding error below the ask.
 */
export function levelFor(amount: number): number {
  return levelOf(amount - 1);
}

/**
 * One set of slots per level: set L holds the slots whose level is L or more. All levels live in
 * one array, a row of words per level, and a level's set is a view of its row made when first
 * asked for: a fleet index built for one decision allocates two arrays per resource, not one
 * per level.
 */
export class LevelSets {
  private words = 0;
  private rows = new Int32Array(0);
  private views: Array<SlotBits | undefined> = [];
  private none = new Int32Array(0);

  /** Grows every set to `words` words, keeping its bits. */
  grow(words: number): void {
    const rows = new Int32Array(LEVELS * words);
    const old = this.words;
    for (let l = 0; l < LEVELS && old > 0; l++) for (let w = 0; w < old; w++) rows[l * words + w] = this.rows[l * old + w]!;
    this.rows = rows;
    this.words = words;
    this.views = [];
    this.none = new Int32Array(words);
  }

  /** The slots at `level` or more: every eligible slot for level ≤ 0, none past the top. */
  atLeast(level: number): SlotBits {
    if (level >= LEVELS) return this.none;
    const l = level <= 0 ? 0 : level;
    return (this.views[l] ??= this.rows.subarray(l * this.words, (l + 1) * this.words));
  }

  /** Moves a slot from level `from` to level `to`; -1 is "in no set" (the node takes no work). */
  move(slot: number, from: number, to: number): void {
    const at = slot >>> 5;
    const bit = 1 << (slot & 31);
    if (to > from) for (let l = from + 1; l <= to; l++) this.rows[l * this.words + at]! |= bit;
    else for (let l = to + 1; l <= from; l++) this.rows[l * this.words + at]! &= ~bit;
  }

  /**
   * Sets at once, for a whole region: `levels[s]` is slot s's level (-1 for none). Each slot is
   * put in its own level's row, and each row then takes in the one above it: O(slots + levels ×
   * words) rather than a bit per level per slot.
   */
  fill(levels: readonly number[]): void {
    const { rows, words } = this;
    rows.fill(0);
    for (let s = 0; s < levels.length; s++) if (levels[s]! >= 0) rows[levels[s]! * words + (s >>> 5)]! |= 1 << (s & 31);
    for (let l = LEVELS - 2; l >= 0; l--) for (let w = 0; w < words; w++) rows[l * words + w]! |= rows[(l + 1) * words + w]!;
  }
}

/** Words to hold `slots` bits. */
export function wordsFor(slots: number): number {
  return (slots + 31) >>> 5;
}

export function setBit(bits: SlotBits, slot: number): void {
  bits[slot >>> 5]! |= 1 << (slot & 31);
}

/** A copy of `bits` in `words` words. */
export function grown(bits: SlotBits, words: number): SlotBits {
  const out = new Int32Array(words);
  out.set(bits.subarray(0, Math.min(bits.length, words)));
  return out;
}

/** The slot of a word's lowest set bit `low` (a power of two, as `x & -x` gives). */
export function slotOf(word: number, low: number): number {
  return (word << 5) | (31 - Math.clz32(low));
}

/** Set bits in a 32-bit word. */
export function popcount(word: number): number {
  let x = word - ((word >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
