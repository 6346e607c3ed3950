// Which git hosts a build may reach, pure. Hosts whose addresses are loopback, private, link-local
// or otherwise not public are refused (a build must not be a way to probe the node's own network
// or a cloud metadata endpoint) unless the operator lists them in KARVON_GIT_ALLOWED_HOSTS.
import { isIP } from 'node:net';

/** True for addresses a customer's git URL must not reach without the operator's consent. */
export function isNonPublicAddress(address: string): boolean {
  const v = isIP(address);
  if (v === 4) return nonPublicV4(address);
  if (v === 6) return nonPublicV6(address);
  return true; // not an address at all: never treat it as public
}

function nonPublicV4(a: string): boolean {
  const [x = 0, y = 0] = a.split('.').map(Number);
  return (
    x === 0 || // "this network"
    x === 10 ||
    x === 127 ||
    (x === 100 && y >= 64 && y <= 127) || // carrier-grade NAT
    (x === 169 && y === 254) || // link-local, cloud metadata
    (x === 172 && y >= 16 && y <= 31) ||
    (x === 192 && y === 168) ||
    (x === 192 && y === 0) || // IETF protocol assignments
    (x === 198 && (y === 18 || y === 19)) || // benchmarking
    x >= 224 // multicast, reserved, broadcast
  );
}

function nonPublicV6(a: string): boolean {
  const words = expandV6(a);
  if (!words) return true;
  const [w0 = 0, , , , , w5 = 0, w6 = 0, w7 = 0] = words;
  if (words.every((w) => w === 0)) return true; // ::
  if (words.slice(0, 7).every((w) => w === 0) && w7 === 1) return true; // ::1
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible: judge the embedded IPv4 address.
  if (words.slice(0, 5).every((w) => w === 0) && (w5 === 0xffff || w5 === 0)) {
    return nonPublicV4(`${w6 >> 8}.${w6 & 0xff}.${w7 >> 8}.${w7 & 0xff}`);
  }
  return (
    (w0 & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (w0 & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (w0 & 0xffc0) === 0xfec0 || // site-local (deprecated)
    (w0 & 0xff00) === 0xff00 || // multicast
    w0 === 0x0064 || // NAT64 64:ff9b::/96 can reach private IPv4
    w0 === 0x2002 // 6to4 embeds an IPv4 address that may be private
  );
}

/** Eight 16-bit words, or undefined when the text is not an IPv6 address. */
function expandV6(a: string): number[] | undefined {
  let s = a.toLowerCase();
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1]) {
    const p = v4[1].split('.').map(Number);
    s = `${s.slice(0, -v4[1].length)}${(((p[0] ?? 0) << 8) | (p[1] ?? 0)).toString(16)}:${(((p[2] ?? 0) << 8) | (p[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail, extra] = s.split('::');
  if (extra !== undefined) return undefined;
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  if (fill < 0 || (tail === undefined && h.length !== 8)) return undefined;
  const words = [...h, ...Array<string>(fill).fill('0'), ...t].map((w) => (/^[0-9a-f]{1,4}$/.test(w) ? parseInt(w, 16) : NaN));
  return words.length === 8 && words.every((w) => !Number.isNaN(w)) ? words : undefined;
}

/**
 * Whether `host:port` is on the operator's list. An entry `host` allows every port, `host:port`
 * one port; IPv6 entries are bracketed (`[fd00::1]:443`). Names compare case-insensitively.
 */
export function isAllowedHost(host: string, port: number, allowed: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowed.some((entry) => {
    const e = entry.trim().toLowerCase();
    const m = /^(?:\[(?<v6>[^\]]+)\]|(?<name>[^:[\]]+))(?::(?<port>\d{1,5}))?$/.exec(e);
    if (!m?.groups) return false;
    const entryHost = (m.groups.v6 ?? m.groups.name ?? '').replace(/\.$/, '');
    return entryHost === h && (m.groups.port === undefined || Number(m.groups.port) === port);
  });
}

export type HostDecision = { ok: true; listed: boolean } | { ok: false; reason: string };

/** The decision for a host whose addresses were resolved (every one must be public, or the host listed). */
export function decideGitHost(host: string, port: number, addresses: readonly string[], allowed: readonly string[]): HostDecision {
  if (isAllowedHost(host, port, allowed)) return { ok: true, listed: true };
  if (addresses.length === 0) return { ok: false, reason: `the git host ${host} does not resolve` };
  const bad = addresses.filter(isNonPublicAddress);
  if (bad.length > 0) {
    return {
      ok: false,
      reason: `the git host ${host} resolves to a private, loopback or link-local address (${bad.join(', ')}); an operator can allow it with KARVON_GIT_ALLOWED_HOSTS=${host.includes(':') ? `[${host}]` : host}:${port}`,
    };
  }
  return { ok: true, listed: false };
}
