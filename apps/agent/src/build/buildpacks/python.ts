// Python: requirements.txt or pyproject.toml, installed into a virtualenv owned by the app user.
// The start command: the Procfile's web line, else a guess from the dependencies (gunicorn or
// uvicorn and the usual module names), else `python app.py|main.py`.
import { APP_USER, DEFAULT_PORT, type SourceListing } from './types';
import { execForm, header, shellCmd } from './dockerfile-text';
import type { PackResult } from './node';
import { procfileWeb } from './procfile';

function depends(listing: SourceListing, name: string): boolean {
  const re = new RegExp(`(^|[\\s"'\\[,])${name}([\\s<>=!~;\\[,"']|$)`, 'im');
  return re.test(listing.contents['requirements.txt'] ?? '') || re.test(listing.contents['pyproject.toml'] ?? '');
}

/** The start command guessed from files and dependencies, with why. */
export function guessPythonStart(listing: SourceListing): { command: string; note: string } | undefined {
  const module = ['app.py', 'main.py', 'wsgi.py', 'asgi.py'].find((f) => listing.paths.has(f))?.replace(/\.py$/, '');
  const bind = `0.0.0.0:\${PORT:-${DEFAULT_PORT}}`;
  if (module && depends(listing, 'uvicorn')) return { command: `uvicorn ${module}:app --host 0.0.0.0 --port \${PORT:-${DEFAULT_PORT}}`, note: `start: uvicorn ${module}:app (guessed)` };
  if (module && depends(listing, 'gunicorn')) return { command: `gunicorn --bind ${bind} ${module}:app`, note: `start: gunicorn ${module}:app (guessed)` };
  const script = ['app.py', 'main.py'].find((f) => listing.paths.has(f));
  if (script) return { command: `python ${script}`, note: `start: python ${script} (guessed)` };
  return undefined;
}

export function planPython(listing: SourceListing, baseImage: string): PackResult {
  const web = procfileWeb(listing.contents.Procfile);
  const guess = web ? { command: web, note: 'start: Procfile web' } : guessPythonStart(listing);
  if (!guess) return { ok: false, problem: 'cannot tell how to start this Python app: add a Procfile with a web: line (e.g. "web: gunicorn --bind 0.0.0.0:$PORT app:app")' };
  const install = listing.paths.has('requirements.txt') ? ['pip', 'install', '--no-cache-dir', '-r', 'requirements.txt'] : ['pip', 'install', '--no-cache-dir', '.'];
  const notes = [`install: ${install.slice(3).join(' ') || '.'}`, guess.note];
  const lines = [
    ...header('python', baseImage, notes),
    `COPY --chown=${APP_USER} . /app/`,
    'WORKDIR /app',
    `USER ${APP_USER}`,
    `ENV HOME=/tmp PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PORT=${DEFAULT_PORT}`,
    `RUN ${execForm(['python', '-m', 'venv', '/app/.venv'])}`,
    'ENV PATH=/app/.venv/bin:$PATH',
    `RUN ${execForm(install)}`,
    `EXPOSE ${DEFAULT_PORT}`,
    shellCmd(guess.command),
  ];
  return { ok: true, dockerfile: `${lines.join('\n')}\n`, notes };
}
