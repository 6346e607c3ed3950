// Which buildpack builds a checkout, pure. Order: the repository's Dockerfile (unless the app says
// `buildpack`), then Node.js, Python, Go, PHP, static. When the build names a runtime from the
// catalog, that runtime's buildpack must match the repository (its base image is what the
// operator chose); without one, the first match uses the default base image of its kind.
import { planGo } from './go';
import { planNode, type PackResult } from './node';
import { planPhp } from './php';
import { planPython } from './python';
import { planStatic } from './static';
import { DEFAULT_BASE_IMAGES, type BuildPlan, type RuntimeChoice, type RuntimeKind, type SourceListing } from './types';

export type Strategy = 'auto' | 'dockerfile' | 'buildpack';

export type Detection = { ok: true; plan: BuildPlan } | { ok: false; message: string };

const PACKS: ReadonlyArray<{ kind: RuntimeKind; marker: string; matches(l: SourceListing): boolean; plan(l: SourceListing, base: string): PackResult }> = [
  { kind: 'node', marker: 'package.json', matches: (l) => l.paths.has('package.json'), plan: planNode },
  { kind: 'python', marker: 'requirements.txt or pyproject.toml', matches: (l) => l.paths.has('requirements.txt') || l.paths.has('pyproject.toml'), plan: planPython },
  { kind: 'go', marker: 'go.mod', matches: (l) => l.paths.has('go.mod'), plan: planGo },
  { kind: 'php', marker: 'composer.json', matches: (l) => l.paths.has('composer.json'), plan: planPhp },
  { kind: 'static', marker: 'index.html', matches: (l) => l.paths.has('index.html'), plan: planStatic },
];

const HOW_TO = 'add a Dockerfile, or one of: package.json (Node.js), requirements.txt or pyproject.toml (Python), go.mod (Go), composer.json (PHP), index.html (static site) at the repository root';

export function detectBuildpack(listing: SourceListing, strategy: Strategy, runtime?: RuntimeChoice): Detection {
  const hasDockerfile = listing.paths.has('Dockerfile');
  if (strategy === 'dockerfile' || (strategy === 'auto' && hasDockerfile)) {
    if (!hasDockerfile) return { ok: false, message: 'the app builds with its Dockerfile but the repository has no Dockerfile at its root: add one, or switch the app to buildpacks' };
    return { ok: true, plan: { buildpack: 'dockerfile', dockerfile: null, notes: ['using the repository Dockerfile'] } };
  }
  const matching = PACKS.filter((p) => p.matches(listing));
  let pack = matching[0];
  if (runtime) {
    pack = PACKS.find((p) => p.kind === runtime.kind);
    if (!pack) return { ok: false, message: `the app's runtime "${runtime.kind}" has no buildpack on this agent (known: ${PACKS.map((p) => p.kind).join(', ')})` };
    if (!pack.matches(listing)) {
      const found = matching[0] ? `; the repository looks like ${matching[0].kind} (${matching[0].marker}): choose that runtime` : '';
      return { ok: false, message: `the app's runtime is ${runtime.kind} ${runtime.version} but the repository has no ${pack.marker} at its root${found}` };
    }
  }
  if (!pack) return { ok: false, message: `no buildpack matches this repository: ${HOW_TO}` };
  const baseImage = runtime?.baseImage ?? DEFAULT_BASE_IMAGES[pack.kind];
  const result = pack.plan(listing, baseImage);
  if (!result.ok) return { ok: false, message: `${pack.kind} buildpack: ${result.problem}` };
  return { ok: true, plan: { buildpack: pack.kind, dockerfile: result.dockerfile, baseImage, notes: result.notes } };
}
