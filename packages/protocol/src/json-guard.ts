// What JSON.parse gives us is still hostile: keys such as `__proto__` arrive as own properties
// (harmless until some later Object.assign or deep merge turns them into a prototype write), and
// nesting can be arbitrarily deep (V8 parses a million levels; recursive code after it would not).

/** Keys dropped wherever they appear: the ones deep merges turn into prototype writes. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export type JsonGuardResult = { ok: true } | { ok: false; depth: number };

/**
 * Walks a value iteratively (no recursion, so no stack to exhaust) and fails when it nests deeper
 * than maxDepth. With dropPrototypeKeys it deletes PROTOTYPE_KEYS own properties in place, which
 * is only for values the caller owns (a fresh JSON.parse result).
 */
export function guardJson(value: unknown, maxDepth: number, dropPrototypeKeys: boolean): JsonGuardResult {
  const stack: Array<{ value: object; depth: number }> = [];
  if (typeof value === 'object' && value !== null) stack.push({ value, depth: 1 });
  while (stack.length > 0) {
    const { value: node, depth } = stack.pop()!;
    if (depth > maxDepth) return { ok: false, depth };
    if (Array.isArray(node)) {
      for (const item of node as unknown[]) {
        if (typeof item === 'object' && item !== null) stack.push({ value: item, depth: depth + 1 });
      }
      continue;
    }
    for (const key of Object.keys(node)) {
      if (dropPrototypeKeys && PROTOTYPE_KEYS.has(key)) {
        delete (node as Record<string, unknown>)[key];
        continue;
      }
      const child = (node as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return { ok: true };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * True when JSON text nests deeper than maxDepth, found by scanning the text before it is parsed.
 * V8 parses a frame of nothing but `[` in about a second per few MiB, building millions of arrays
 * first; this scan stops at the first bracket past the limit. Brackets inside strings do not count.
 * The text need not be valid JSON: a wrong answer on invalid JSON only changes which error it gets.
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
      if (i < 0) return false;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** Index of the quote closing the string opened at `open`, or -1. Jumps with indexOf: most of a
 * frame's bytes are inside strings (env values, PEM), and a native search is far faster there. */
function endOfString(text: string, open: number): number {
  let i = open;
  for (;;) {
    i = text.indexOf('"', i + 1);
    if (i < 0) return -1;
    let backslashes = 0;
    for (let j = i - 1; j > open && text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
}
