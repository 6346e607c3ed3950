import { describe, expect, it } from 'vitest';
import { detectBuildpack } from './detect';
import type { SourceListing } from './types';

function listing(files: Record<string, string>): SourceListing {
  const paths = new Set<string>();
  for (const f of Object.keys(files)) {
    const parts = f.split('/');
    for (let i = 1; i <= parts.length; i++) paths.add(parts.slice(0, i).join('/'));
  }
  const contents: Record<string, string> = {};
  for (const name of ['package.json', 'Procfile', 'requirements.txt', 'pyproject.toml', 'go.mod', 'composer.json']) if (files[name] !== undefined) contents[name] = files[name];
  return { paths, contents };
}

const pkg = (o: object) => JSON.stringify(o);

describe('detectBuildpack', () => {
  it.each([
    ['Dockerfile wins over everything', { Dockerfile: 'FROM x', 'package.json': '{}', 'index.html': '' }, 'dockerfile'],
    ['Node.js', { 'package.json': pkg({ scripts: { start: 'node a.js' } }) }, 'node'],
    ['Node.js before static', { 'package.json': pkg({ main: 'a.js' }), 'index.html': '' }, 'node'],
    ['Python: requirements.txt', { 'requirements.txt': 'flask\n', 'app.py': '' }, 'python'],
    ['Python: pyproject.toml', { 'pyproject.toml': '[project]\ndependencies = ["uvicorn"]\n', 'main.py': '' }, 'python'],
    ['Go', { 'go.mod': 'module x\n', 'main.go': '' }, 'go'],
    ['PHP', { 'composer.json': '{}', 'public/index.php': '' }, 'php'],
    ['static', { 'index.html': '<h1>hi</h1>' }, 'static'],
  ] as const)('%s', (_name, files, buildpack) => {
    const d = detectBuildpack(listing(files), 'auto');
    expect(d).toMatchObject({ ok: true, plan: { buildpack } });
  });

  it('ignores a Dockerfile when the app uses buildpacks, and requires one when it uses its Dockerfile', () => {
    expect(detectBuildpack(listing({ Dockerfile: 'FROM x', 'index.html': '' }), 'buildpack')).toMatchObject({ ok: true, plan: { buildpack: 'static' } });
    expect(detectBuildpack(listing({ 'index.html': '' }), 'dockerfile')).toEqual({ ok: false, message: expect.stringContaining('has no Dockerfile') as unknown });
  });

  it('says what to add when nothing matches', () => {
    expect(detectBuildpack(listing({ 'README.md': '' }), 'auto')).toEqual({ ok: false, message: expect.stringMatching(/add a Dockerfile, or one of: package\.json \(Node\.js\)/) as unknown });
  });

  it('uses the runtime from the catalog: its base image, and its kind must match the repository', () => {
    const rt = { kind: 'node', version: '22', baseImage: 'registry.local/node:22' };
    expect(detectBuildpack(listing({ 'package.json': pkg({ main: 'a.js' }) }), 'auto', rt)).toMatchObject({ ok: true, plan: { buildpack: 'node', baseImage: 'registry.local/node:22' } });
    expect(detectBuildpack(listing({ 'requirements.txt': 'flask', 'app.py': '' }), 'auto', rt)).toEqual({
      ok: false,
      message: "the app's runtime is node 22 but the repository has no package.json at its root; the repository looks like python (requirements.txt or pyproject.toml): choose that runtime",
    });
    expect(detectBuildpack(listing({ 'index.html': '' }), 'auto', { kind: 'ruby', version: '3', baseImage: 'ruby:3' })).toMatchObject({ ok: false, message: expect.stringContaining('"ruby" has no buildpack') as unknown });
  });

  it('uses the default base image of the kind without a runtime', () => {
    expect(detectBuildpack(listing({ 'index.html': '' }), 'auto')).toMatchObject({ plan: { baseImage: 'busybox:latest' } });
  });

  it('refuses a Node app it cannot start, and broken package.json, with the fix', () => {
    expect(detectBuildpack(listing({ 'package.json': pkg({ scripts: { build: 'tsc' } }) }), 'auto')).toMatchObject({ ok: false, message: expect.stringContaining('add scripts.start') as unknown });
    expect(detectBuildpack(listing({ 'package.json': '{ nope' }), 'auto')).toMatchObject({ ok: false, message: expect.stringContaining('package.json is not valid JSON') as unknown });
    expect(detectBuildpack(listing({ 'requirements.txt': 'requests' }), 'auto')).toMatchObject({ ok: false, message: expect.stringContaining('Procfile with a web: line') as unknown });
  });
});
