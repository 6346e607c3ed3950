// Custom-domain hostnames, parsed into the one form the rest of the system uses: lower-case
// A-labels (IDNs converted with WHATWG's domainToASCII). Parsing is by allow-list, not by a list of
// bad characters: the input may hold letters, marks, digits, hyphens and dots and nothing else, and
// the result must be a plain LDH name — so no Traefik rule syntax (backticks, `||`, spaces,
// parentheses) can survive, whatever the renderer does with it.
import { isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { PUBLIC_SUFFIXES, RESERVED_TLDS } from './public-suffixes';

export interface HostnamePolicy {
  /** system hostnames are `<app>.<region>.<appsDomain>`: that name and everything under it is the platform's */
  appsDomain: string;
  /** the control plane's own public hostname(s) */
  platformHostnames: readonly string[];
}

export type HostnameResult = { ok: true; hostname: string } | { ok: false; reason: string };

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const INPUT_CHARS = /^[\p{L}\p{M}\p{N}.-]+$/u;

export function parseCustomHostname(input: unknown, policy: HostnamePolicy): HostnameResult {
  const no = (reason: string): HostnameResult => ({ ok: false, reason });
  if (typeof input !== 'string' || input.length === 0) return no('a hostname is required');
  if (input.length > 1000) return no('too long');
  if (/\s/u.test(input)) return no('must not contain spaces');
  if (input.includes('*')) return no('wildcards are not allowed');
  if (isIP(input) !== 0 || /^\[.*\]$/.test(input)) return no('IP addresses are not allowed');
  if (!INPUT_CHARS.test(input)) return no('only letters, digits, hyphens and dots are allowed');
  // One trailing dot (the fully qualified form) names the same host.
  const trimmed = input.endsWith('.') ? input.slice(0, -1) : input;
  // A numeric last label is how IPv4 literals look in every notation (`10.0.0.300`, `0x7f.1`).
  if (/(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)$/i.test(trimmed)) return no('IP addresses are not allowed');
  const ascii = domainToASCII(trimmed);
  if (ascii === '') return no('not a valid (internationalized) domain name');
  if (isIP(ascii) !== 0) return no('IP addresses are not allowed');
  if (ascii.length > 253) return no('longer than 253 characters');
  const labels = ascii.split('.');
  if (labels.length < 2) return no('needs at least two labels (a single label is not a public name)');
  for (const label of labels) {
    if (!LABEL.test(label)) return no(`label ${JSON.stringify(label)} is not 1–63 of a-z, 0-9 and inner hyphens`);
    // Hyphens in places 3–4 are reserved for encodings (IDNA2008); only real A-labels may use them.
    if (label.slice(2, 4) === '--' && !label.startsWith('xn--')) return no(`label ${JSON.stringify(label)} uses the reserved "--" form`);
    if (label.startsWith('xn--')) {
      const problem = lookAlikeProblem(domainToUnicode(label));
      if (problem) return no(problem);
    }
  }
  const tld = labels[labels.length - 1]!;
  if (/^[0-9]+$/.test(tld)) return no('IP addresses are not allowed');
  if (RESERVED_TLDS.has(tld)) return no(`.${tld} names are reserved and never public`);
  if (PUBLIC_SUFFIXES.has(ascii)) return no('is a public suffix; use a name under it');
  const platform = [policy.appsDomain, ...policy.platformHostnames].map((h) => h.toLowerCase()).filter(Boolean);
  if (platform.some((p) => ascii === p || ascii.endsWith(`.${p}`))) return no("belongs to the platform's own names");
  return { ok: true, hostname: ascii };
}

// --- look-alikes -------------------------------------------------------------------------------
// Browsers show an IDN as Unicode only when its labels pass a script-mixing policy (UTS #39
// "highly restrictive"); we refuse what they would show as punycode: one label mixing scripts
// (`exаmple` with a Cyrillic а), and labels written entirely in Cyrillic or Greek letters that all
// look like Latin ones (`раура1`), which read as an ASCII name.

const SCRIPTS = ['Latin', 'Cyrillic', 'Greek', 'Armenian', 'Hebrew', 'Arabic', 'Devanagari', 'Bengali', 'Thai', 'Georgian', 'Hangul', 'Hiragana', 'Katakana', 'Han', 'Bopomofo', 'Ethiopic', 'Tamil'] as const;
const SCRIPT_RE = SCRIPTS.map((s) => [s, new RegExp(`^\\p{Script=${s}}$`, 'u')] as const);
/** Script sets a single label may combine (CJK with each other, and with Latin). */
const ALLOWED_MIXES: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Hangul']),
  new Set(['Latin', 'Han', 'Bopomofo']),
];
const LATIN_LOOKALIKES = new Set([...'аеорсухіјѕԁһԛԝӏхуъьвкмнтгпɡοαικνρτυχεβ']);

function scriptOf(ch: string): string {
  for (const [name, re] of SCRIPT_RE) if (re.test(ch)) return name;
  return 'Other';
}

/** Undefined when the Unicode label is acceptable; else why not. */
export function lookAlikeProblem(label: string): string | undefined {
  const letters = [...label].filter((c) => /\p{L}/u.test(c));
  const scripts = new Set(letters.map(scriptOf));
  if (scripts.has('Other')) return `label "${label}" uses a script that is not supported`;
  if (scripts.size > 1 && !ALLOWED_MIXES.some((ok) => [...scripts].every((s) => ok.has(s)))) {
    return `label "${label}" mixes ${[...scripts].sort().join(' and ')} letters (look-alike characters)`;
  }
  if ((scripts.has('Cyrillic') || scripts.has('Greek')) && letters.every((c) => LATIN_LOOKALIKES.has(c))) {
    return `label "${label}" is written in letters that look like Latin ones (look-alike characters)`;
  }
  return undefined;
}
