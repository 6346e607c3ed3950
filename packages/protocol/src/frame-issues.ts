import type { z } from 'zod';

const MAX_ISSUES_SHOWN = 3;
const MAX_SEGMENT_CHARS = 40;

/**
 * `payload.allocations[3].image: an image reference` — the field path first, so a log line or an
 * error frame says which field failed. Record keys in a path come from the peer, so each segment
 * is cut short and at most three issues are named.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).map((issue) => {
    const path = formatPath(issue.path);
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = issues.length - shown.length;
  return more > 0 ? `${shown.join('; ')} (and ${more} more)` : shown.join('; ');
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const text = String(segment);
      const safe = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(text) && text.length <= MAX_SEGMENT_CHARS;
      out += safe ? (out ? `.${text}` : text) : `[${JSON.stringify(text.length > MAX_SEGMENT_CHARS ? `${text.slice(0, MAX_SEGMENT_CHARS)}…` : text)}]`;
    }
  }
  return out;
}
