// PHP: composer.json; dependencies through composer (the catalog's PHP image must provide it),
// served by PHP's built-in server from public/ when there is one, unless the Procfile says otherwise.
import { APP_USER, DEFAULT_PORT, type SourceListing } from './types';
import { execForm, header, shellCmd } from './dockerfile-text';
import type { PackResult } from './node';
import { procfileWeb } from './procfile';

export function planPhp(listing: SourceListing, baseImage: string): PackResult {
  const web = procfileWeb(listing.contents.Procfile);
  const docroot = listing.paths.has('public') ? 'public' : '.';
  const command = web ?? `php -S 0.0.0.0:\${PORT:-${DEFAULT_PORT}} -t ${docroot}`;
  const notes = ['install: composer install --no-dev', web ? 'start: Procfile web' : `start: php -S (document root ${docroot})`];
  const lines = [
    ...header('php', baseImage, notes),
    `COPY --chown=${APP_USER} . /app/`,
    'WORKDIR /app',
    `USER ${APP_USER}`,
    `ENV HOME=/tmp COMPOSER_HOME=/tmp/.composer PORT=${DEFAULT_PORT}`,
    `RUN ${execForm(['composer', 'install', '--no-dev', '--no-interaction', '--prefer-dist', '--optimize-autoloader'])}`,
    `EXPOSE ${DEFAULT_PORT}`,
    shellCmd(command),
  ];
  return { ok: true, dockerfile: `${lines.join('\n')}\n`, notes };
}
