// Git URL rules, pure. Only https://, ssh:// and scp-like user@host:path are accepted; everything
// else (file://, ext::, fd::, git://, http://, local paths) is refused before git ever sees it.
// The grammar is deliberately narrow: a value that could be read as an option, or that carries
// whitespace, control characters, a query or a fragment, is refused rather than escaped.

export type GitTransport = 'https' | 'ssh';

export interface GitRemote {
  transport: GitTransport;
  /** lower-cased DNS name, IPv4 literal, or IPv6 literal without brackets */
  host: string;
  port: number;
  /** the URL exactly as git will receive it */
  url: string;
}

export type ParsedGitUrl = { ok: true; remote: GitRemote } | { ok: false; reason: string };

const MAX_URL = 2048;
// RFC 3986 userinfo without `@`, `/`, `:` (ssh user) or percent-free: a user name or an https token.
const USER = '[A-Za-z0-9._~!$&\'()*+,;=-]+';
const HTTPS_USERINFO = `${USER}(?::[A-Za-z0-9._~!$&'()*+,;=%-]*)?`;
const DNS_NAME = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?';
const IPV6 = '\\[[0-9A-Fa-f:.]+\\]';
const HOST = `(?<host>${DNS_NAME}|${IPV6})`;
const PORT = '(?::(?<port>[0-9]{1,5}))?';
// A repository path: no `..` segment tricks matter remotely, but no spaces, no query, no fragment.
const PATH = "(?<path>/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)";

const HTTPS_RE = new RegExp(`^https://(?:${HTTPS_USERINFO}@)?${HOST}${PORT}${PATH}$`);
const SSH_RE = new RegExp(`^ssh://(?:${USER}@)?${HOST}${PORT}${PATH}$`);
// scp-like: the user is required (as the protocol schema does), so `host:path` and `C:\x` are
// never ambiguous with local paths; the path may not start with `-` or `/-`.
const SCP_RE = new RegExp(`^${USER}@(?<host>${DNS_NAME}|${IPV6}):(?<path>(?!/?-)[A-Za-z0-9._~!$&'()*+,;=@%/-][A-Za-z0-9._~!$&'()*+,;=:@%/-]*)$`);

export function parseGitUrl(url: string): ParsedGitUrl {
  if (typeof url !== 'string' || url.length === 0) return refuse('the git URL is empty');
  if (url.length > MAX_URL) return refuse(`the git URL is longer than ${MAX_URL} characters`);
  if (url.startsWith('-')) return refuse('the git URL starts with "-" (it would be read as an option)');
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(url)) return refuse('the git URL contains whitespace or control characters');
  // git reads `<scheme chars>::` at the start as "run the remote helper git-remote-<scheme>".
  if (/^[A-Za-z0-9+.-]*::/.test(url)) return refuse('git remote helpers ("transport::address", e.g. ext::) are not allowed');
  const lower = url.toLowerCase();
  let m: RegExpExecArray | null;
  let transport: GitTransport;
  let defaultPort: number;
  if (lower.startsWith('https://')) {
    m = HTTPS_RE.exec(url);
    transport = 'https';
    defaultPort = 443;
  } else if (lower.startsWith('ssh://')) {
    m = SSH_RE.exec(url);
    transport = 'ssh';
    defaultPort = 22;
  } else if (/^[a-z][a-z0-9+.-]*:\/\//.test(lower)) {
    return refuse(`the transport ${lower.slice(0, lower.indexOf(':'))}:// is not allowed: use https://, ssh:// or user@host:path`);
  } else {
    m = SCP_RE.exec(url);
    transport = 'ssh';
    defaultPort = 22;
    if (!m) return refuse('not an https://, ssh:// or user@host:path git URL (local paths are not allowed)');
  }
  if (!m?.groups) return refuse(`a malformed ${transport}:// git URL`);
  const { host: rawHost, port: rawPort, path } = m.groups as { host: string; port?: string; path: string };
  if (path.split('/').some((seg) => seg.startsWith('-'))) return refuse('a path segment of the git URL starts with "-"');
  const port = rawPort === undefined ? defaultPort : Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return refuse('the git URL port is not within 1-65535');
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1).toLowerCase() : rawHost.toLowerCase().replace(/\.$/, '');
  if (rawHost.startsWith('[') && !isIpv6Literal(host)) return refuse('the git URL host is not a valid IPv6 address');
  return { ok: true, remote: { transport, host, port, url } };
}

/** The URL without credentials, for logs and messages (an https token never leaves the agent). */
export function redactGitUrl(url: string): string {
  return url.replace(/^(https:\/\/)[^@/]*@/i, '$1***@');
}

function isIpv6Literal(s: string): boolean {
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

function refuse(reason: string): ParsedGitUrl {
  return { ok: false, reason };
}
