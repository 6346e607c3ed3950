// Entry of the release's `lib/traefik-static-config.mjs`: prints Traefik's static config for a
// node (apps/agent/src/routing/static-config.ts) so install-agent.sh writes what the agent's own
// generator makes, not a copy of it. Usage: traefik-static-config.mjs --proxy-dir DIR
import { parseArgs } from 'node:util';
import { renderTraefikStaticConfig } from '../../apps/agent/src/routing/static-config.ts';

const { values } = parseArgs({ options: { 'proxy-dir': { type: 'string' } }, strict: true });
if (!values['proxy-dir']) {
  console.error('usage: traefik-static-config.mjs --proxy-dir DIR');
  process.exit(2);
}
process.stdout.write(renderTraefikStaticConfig({ proxyDir: values['proxy-dir'] }));
