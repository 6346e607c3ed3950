// Go: go.mod; a static binary built in one stage, copied into a second stage from the same base
// image (the catalog names one image per runtime), run as the app user.
import { APP_USER, DEFAULT_PORT, type SourceListing } from './types';
import { execForm, header, shellCmd } from './dockerfile-text';
import type { PackResult } from './node';
import { procfileWeb } from './procfile';

export function planGo(listing: SourceListing, baseImage: string): PackResult {
  const web = procfileWeb(listing.contents.Procfile);
  const notes = ['build: go build ./ (CGO disabled)', web ? 'start: Procfile web' : 'start: the built binary'];
  const lines = [
    ...header('go', baseImage, notes).map((l) => (l.startsWith('FROM ') ? `${l} AS build` : l)),
    'WORKDIR /src',
    'COPY . .',
    'ENV CGO_ENABLED=0',
    `RUN ${execForm(['go', 'build', '-trimpath', '-o', '/out/app', '.'])}`,
    `FROM ${baseImage}`,
    `COPY --from=build --chown=${APP_USER} /out/app /app/app`,
    `COPY --chown=${APP_USER} . /app/`,
    'WORKDIR /app',
    `USER ${APP_USER}`,
    `ENV HOME=/tmp PORT=${DEFAULT_PORT}`,
    `EXPOSE ${DEFAULT_PORT}`,
    web ? shellCmd(web) : `CMD ${execForm(['/app/app'])}`,
  ];
  return { ok: true, dockerfile: `${lines.join('\n')}\n`, notes };
}
