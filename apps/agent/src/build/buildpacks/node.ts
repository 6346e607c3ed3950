// Node.js: package.json; npm, yarn or pnpm by lockfile; the `build` script if there is one; the
// start command from the Procfile, else the `start` script, else `main` (npm's own defaults after).
import { APP_USER, DEFAULT_PORT, type SourceListing } from './types';
import { execForm, header, shellCmd } from './dockerfile-text';
import { procfileWeb } from './procfile';

export type PackResult = { ok: true; dockerfile: string; notes: string[] } | { ok: false; problem: string };

interface PackageJson {
  scripts?: Record<string, unknown>;
  main?: unknown;
}

type Manager = 'npm' | 'yarn' | 'pnpm';

export function nodeManager(paths: ReadonlySet<string>): { manager: Manager; install: string[] } {
  if (paths.has('pnpm-lock.yaml')) return { manager: 'pnpm', install: ['pnpm', 'install', '--frozen-lockfile'] };
  if (paths.has('yarn.lock')) return { manager: 'yarn', install: ['yarn', 'install', '--frozen-lockfile'] };
  if (paths.has('package-lock.json') || paths.has('npm-shrinkwrap.json')) return { manager: 'npm', install: ['npm', 'ci', '--no-audit', '--no-fund'] };
  return { manager: 'npm', install: ['npm', 'install', '--no-audit', '--no-fund'] };
}

export function planNode(listing: SourceListing, baseImage: string): PackResult {
  let pkg: PackageJson;
  try {
    const parsed: unknown = JSON.parse(listing.contents['package.json'] ?? '');
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    pkg = parsed;
  } catch (e) {
    return { ok: false, problem: `package.json is not valid JSON (${(e as Error).message}); fix it or add a Dockerfile` };
  }
  const scripts = pkg.scripts && typeof pkg.scripts === 'object' ? pkg.scripts : {};
  const hasScript = (name: string) => typeof scripts[name] === 'string' && String(scripts[name]).trim() !== '';
  const { manager, install } = nodeManager(listing.paths);
  const web = procfileWeb(listing.contents.Procfile);
  const main = typeof pkg.main === 'string' && pkg.main.trim() !== '' ? pkg.main : undefined;
  let start: string;
  let startNote: string;
  if (web) {
    start = shellCmd(web);
    startNote = 'start: Procfile web';
  } else if (hasScript('start')) {
    start = `CMD ${execForm([manager, 'start'])}`;
    startNote = `start: ${manager} start`;
  } else if (main) {
    start = `CMD ${execForm(['node', main])}`;
    startNote = `start: node ${main} (package.json main)`;
  } else if (listing.paths.has('server.js')) {
    start = `CMD ${execForm(['node', 'server.js'])}`;
    startNote = 'start: node server.js';
  } else {
    return { ok: false, problem: 'package.json has no "start" script and no "main", and there is no server.js: add scripts.start (e.g. "node server.js") or a Procfile with a web: line' };
  }
  const notes = [`package manager: ${manager}`, ...(hasScript('build') ? ['build: the build script'] : []), startNote];
  const lines = [
    ...header('node', baseImage, notes),
    // yarn and pnpm come through corepack, enabled while still root.
    ...(manager === 'npm' ? [] : [`RUN ${execForm(['corepack', 'enable'])}`]),
    `COPY --chown=${APP_USER} . /app/`,
    'WORKDIR /app',
    `USER ${APP_USER}`,
    `ENV HOME=/tmp npm_config_cache=/tmp/.npm COREPACK_HOME=/tmp/.corepack PORT=${DEFAULT_PORT}`,
    `RUN ${execForm(install)}`,
    ...(hasScript('build') ? [`RUN ${execForm([manager, 'run', 'build'])}`] : []),
    'ENV NODE_ENV=production',
    `EXPOSE ${DEFAULT_PORT}`,
    start,
  ];
  return { ok: true, dockerfile: `${lines.join('\n')}\n`, notes };
}
