// A region's image registry, as nodes name it in image references: `host[:port]` with an optional
// path prefix (`registry.example.com:5000/karvon`), no scheme. Valid when an image under it parses
// by the same grammar the apps' image sources use, with that host as the registry domain.
import { parseImageReference } from '../apps/image-reference';

/** Why `value` cannot be a registry, or undefined when it can. */
export function registryUrlProblem(value: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return 'host[:port][/path] without a scheme (nodes pull over HTTPS, or plain HTTP from a loopback or an insecure-registries host)';
  const parsed = parseImageReference(`${value}/karvon-probe`);
  const host = value.split('/')[0]!;
  if (!parsed.ok) return parsed.message;
  if (parsed.ref.domain !== host || parsed.ref.tag !== undefined || parsed.ref.digest !== undefined) {
    return 'host[:port][/path]: the host must hold a . or a :port, or be localhost';
  }
  return undefined;
}
