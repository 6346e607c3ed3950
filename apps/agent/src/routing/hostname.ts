// The one gate every hostname passes before it can reach a Traefik rule. The rule language
// (`Host(`a`) || PathPrefix(`/`)`) is code: a name that is not a plain lower-case A-label DNS name
// could widen a router to other tenants' traffic. The protocol schema already checks the shape;
// this check is stricter (IP literals, reserved names, IDN validity, mixed scripts) and is applied
// again here because the renderer must be safe on its own, whatever the caller parsed.
import { isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';

/** Why a hostname is refused; a closed set, so logs and tests can name the reason. */
export const HOSTNAME_REFUSALS = [
  'not-a-string',
  'empty',
  'too-long',
  'wildcard',
  'ip-literal',
  'non-ascii',
  'uppercase',
  'invalid-characters',
  'trailing-dot',
  'bad-label',
  'single-label',
  'numeric-tld',
  'reserved',
  'invalid-idn',
  'mixed-script',
] as const;

export type HostnameRefusal = (typeof HOSTNAME_REFUSALS)[number];

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

// Scripts whose letters pass for Latin ones (а/a, ο/o, Ꭺ/A). A label mixing two of them is the
// classic look-alike (`exаmple` with a Cyrillic а); a label wholly in one script is a real IDN.
const CONFUSABLE_SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u, /\p{Script=Armenian}/u, /\p{Script=Cherokee}/u];

/** null when `name` may be routed, else the reason it may not. */
export function checkHostname(name: unknown): HostnameRefusal | null {
  if (typeof name !== 'string') return 'not-a-string';
  if (name.length === 0) return 'empty';
  if (name.length > 253) return 'too-long';
  if (name.includes('*')) return 'wildcard';
  if (isIP(name) !== 0 || isIP(name.replace(/^\[|\]$/g, '')) !== 0) return 'ip-literal';
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(name)) return 'non-ascii';
  if (/[^A-Za-z0-9.-]/.test(name)) return 'invalid-characters';
  if (/[A-Z]/.test(name)) return 'uppercase';
  if (name.endsWith('.')) return 'trailing-dot';
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return 'bad-label';
  if (labels.length < 2) return 'single-label';
  // An all-numeric last label is never a TLD; it is an IPv4 address in one of inet_aton's forms.
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'numeric-tld';
  if (labels[labels.length - 1] === 'localhost') return 'reserved';
  for (const label of labels) {
    // Labels with `--` in positions 3-4 are reserved for IDN prefixes (RFC 5891 R-LDH).
    if (label.slice(2, 4) !== '--') continue;
    if (!label.startsWith('xn--')) return 'invalid-idn';
    const unicode = domainToUnicode(label);
    if (unicode === '' || domainToASCII(unicode) !== label) return 'invalid-idn';
    if (CONFUSABLE_SCRIPTS.filter((script) => script.test(unicode)).length > 1) return 'mixed-script';
  }
  return null;
}

/** The Traefik rule for one checked hostname; throws rather than ever quoting an unchecked one. */
export function hostRule(name: string): string {
  const refusal = checkHostname(name);
  if (refusal) throw new Error(`refusing to build a rule for a hostname (${refusal})`);
  return `Host(\`${name}\`)`;
}
