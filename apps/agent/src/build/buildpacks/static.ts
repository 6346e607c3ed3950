// Static sites: index.html at the root, served by busybox httpd (the static runtime's base image
// must provide busybox, as `busybox:latest` does) on $PORT as the app user.
import { APP_USER, DEFAULT_PORT, type SourceListing } from './types';
import { header, shellCmd } from './dockerfile-text';
import type { PackResult } from './node';
import { procfileWeb } from './procfile';

export function planStatic(listing: SourceListing, baseImage: string): PackResult {
  const web = procfileWeb(listing.contents.Procfile);
  const notes = [web ? 'start: Procfile web' : 'serve: httpd from /app'];
  const lines = [
    ...header('static', baseImage, notes),
    `COPY --chown=${APP_USER} . /app/`,
    'WORKDIR /app',
    `USER ${APP_USER}`,
    `ENV PORT=${DEFAULT_PORT}`,
    `EXPOSE ${DEFAULT_PORT}`,
    shellCmd(web ?? `httpd -f -v -p \${PORT:-${DEFAULT_PORT}} -h /app`),
  ];
  return { ok: true, dockerfile: `${lines.join('\n')}\n`, notes };
}
