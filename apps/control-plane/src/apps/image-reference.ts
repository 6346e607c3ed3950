// Docker image references, parsed by the distribution grammar rather than matched loosely:
//   [domain[:port]/]path-component[/path-component…][:tag][@algorithm:hex]
// A domain is recognised as Docker does: the first component holds a '.' or ':' or is
// 'localhost'. Path components are lower case; tags are at most 128 word characters, '.' and '-'.

export interface ImageReference {
  domain?: string;
  path: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_LENGTH = 255;

export type ParsedImage = { ok: true; ref: ImageReference } | { ok: false; message: string };

export function parseImageReference(input: string): ParsedImage {
  if (input.length === 0 || input.length > MAX_LENGTH) return { ok: false, message: `1–${MAX_LENGTH} characters` };
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return { ok: false, message: 'a digest must be sha256: and 64 lower-case hex digits' };
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return { ok: false, message: 'a tag is up to 128 letters, digits, _ . and -, not starting with . or -' };
  }
  const parts = rest.split('/');
  let domain: string | undefined;
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) {
    domain = parts.shift();
    if (!DOMAIN.test(domain!)) return { ok: false, message: `${domain} is not a registry host[:port]` };
    const port = domain!.split(':')[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return { ok: false, message: 'a registry port is 1–65535' };
  }
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) {
    return { ok: false, message: 'repository path components are lower-case letters and digits separated by . _ __ or -' };
  }
  return { ok: true, ref: { ...(domain ? { domain } : {}), path: parts.join('/'), ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) } };
}
