import { describe, expect, it } from 'vitest';
import { imageLabels, pushReference, withTail } from './build-task';
import { afterLastFrom, buildOptions, labelInstruction, splitTag } from './docker-build';

describe('build decisions', () => {
  it('pushes the spec image under the registry unless it already names it', () => {
    expect(pushReference('karvon/app-1:rel-3', '127.0.0.1:5000')).toBe('127.0.0.1:5000/karvon/app-1:rel-3');
    expect(pushReference('127.0.0.1:5000/karvon/app-1:rel-3', '127.0.0.1:5000')).toBe('127.0.0.1:5000/karvon/app-1:rel-3');
  });

  it('splits tags after the last slash only', () => {
    expect(splitTag('127.0.0.1:5000/a/b:7')).toEqual({ name: '127.0.0.1:5000/a/b', tag: '7' });
    expect(splitTag('127.0.0.1:5000/a/b')).toEqual({ name: '127.0.0.1:5000/a/b', tag: 'latest' });
  });

  it('labels images for the image GC', () => {
    const spec = { buildId: 'bld_1', appId: 'app_1', tenantId: 'usr_1' } as Parameters<typeof imageLabels>[0];
    expect(imageLabels(spec, 'node_1')).toEqual({ 'karvon.managed': 'true', 'karvon.node': 'node_1', 'karvon.app': 'app_1', 'karvon.tenant': 'usr_1', 'karvon.built': 'true' });
    // Nothing that changes from one build of the app to the next: the LABEL step stays cached.
    expect(imageLabels({ ...spec, buildId: 'bld_2' }, 'node_1')).toEqual(imageLabels(spec, 'node_1'));
  });

  it('builds with limits, no build args and no pull', () => {
    expect(buildOptions({ tag: 'a:1', dockerfile: '.karvon.Dockerfile', labels: { x: '1' }, memoryBytes: 512 * 2 ** 20, cpuMillicores: 1500 })).toEqual({
      t: 'a:1',
      dockerfile: '.karvon.Dockerfile',
      labels: { x: '1' },
      buildargs: {},
      memory: 536870912,
      memswap: 536870912,
      cpushares: 1536,
      cpuperiod: 100000,
      cpuquota: 300000,
      rm: true,
      forcerm: true,
      pull: false,
      version: '1',
    });
  });

  it('weighs a build by its reservation and caps it at twice that', () => {
    const cpu = (cpuMillicores: number) => {
      const o = buildOptions({ tag: 'a:1', dockerfile: 'Dockerfile', labels: {}, memoryBytes: 2 ** 30, cpuMillicores });
      return { shares: o.cpushares, cores: (o.cpuquota as number) / (o.cpuperiod as number) };
    };
    expect(cpu(1000)).toEqual({ shares: 1024, cores: 2 });
    expect(cpu(250)).toEqual({ shares: 256, cores: 0.5 });
    // Docker's minimums (2 shares, 1 ms of quota) are never undercut.
    expect(cpu(0)).toEqual({ shares: 10, cores: 0.02 });
  });

  it('writes the image labels as one LABEL line, sorted, or leaves them to the build option', () => {
    expect(labelInstruction({ 'karvon.node': 'node_1', 'karvon.app': 'app_1', 'karvon.managed': 'true' })).toBe('LABEL "karvon.app"="app_1" "karvon.managed"="true" "karvon.node"="node_1"\n');
    const refused: Array<Record<string, string>> = [{ 'karvon.app': 'a"b' }, { 'karvon.app': 'x\nRUN id' }, { 'karvon.app': '' }, { 'bad key': 'x' }, { 'karvon.app': '$HOME' }, {}];
    for (const bad of refused) {
      expect(labelInstruction(bad)).toBeUndefined();
    }
  });

  it('puts the label line right after the last FROM, in the final stage', () => {
    const label = 'LABEL "karvon.app"="app_1"\n';
    expect(afterLastFrom('# Generated\nFROM node:20\nCOPY . /app/\nCMD ["node"]\n', label)).toBe('# Generated\nFROM node:20\nLABEL "karvon.app"="app_1"\nCOPY . /app/\nCMD ["node"]\n');
    expect(afterLastFrom('FROM golang AS build\nRUN go build\nFROM debian\nCOPY --from=build /x /x\n', label)).toBe(
      'FROM golang AS build\nRUN go build\nFROM debian\nLABEL "karvon.app"="app_1"\nCOPY --from=build /x /x\n',
    );
    expect(afterLastFrom('CMD ["x"]', label)).toBe('CMD ["x"]\nLABEL "karvon.app"="app_1"\n');
  });

  it('fits failure messages to the runner limit, newest lines kept', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(80)}`);
    const msg = withTail('the build failed', lines, 500);
    expect(msg.length).toBeLessThanOrEqual(500);
    expect(msg.startsWith('the build failed\n')).toBe(true);
    expect(msg.endsWith(lines[49] ?? '')).toBe(true);
  });
});
