import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { renderTraefikStaticConfig, traefikStaticConfig } from './static-config';
import { staticConfigErrors } from './testing';

describe('Traefik static config', () => {
  it.each([
    { proxyDir: '/var/lib/karvon-agent/proxy' },
    { proxyDir: '/srv/proxy', webAddress: '127.0.0.1:18080', websecureAddress: '127.0.0.1:18443', logLevel: 'DEBUG' as const },
  ])('validates against traefik-v3.json and reads back as YAML (%j)', (o) => {
    const config = traefikStaticConfig(o);
    expect(staticConfigErrors(config)).toEqual([]);
    expect(parseYaml(renderTraefikStaticConfig(o))).toEqual(config);
  });

  it('has the web and websecure entrypoints and only the file provider, watching the proxy dir', () => {
    const config = traefikStaticConfig({ proxyDir: '/var/lib/karvon-agent/proxy' });
    expect(config.entryPoints).toEqual({ web: { address: ':80' }, websecure: { address: ':443' } });
    expect(config.providers).toEqual({ file: { directory: '/var/lib/karvon-agent/proxy', watch: true } });
  });

  it('is judged by a schema with teeth (an unknown provider option fails)', () => {
    expect(staticConfigErrors({ providers: { file: { directory: '/x', watchh: true } } })).not.toEqual([]);
  });
});
