// What a builder node is asked to do for one build (protocol `build` task), from the app and the
// build row. Pure. The image is named for the app and the build; with a region registry the
// reference carries its host so the nodes that run the release pull it from there.
import type { Task } from '@karvon/protocol';
import type { AppRow } from '../apps/app-row';
import { BUILD_LIMITS, type BuildRow } from './build-row';

type BuildSpec = Task<'build'>['payload'];

export function buildImageRef(appId: string, buildId: string, registry: string | null): string {
  const name = `karvon/${appId}:${buildId}`;
  return registry ? `${registry}/${name}` : name;
}

export function buildTaskSpec(app: AppRow, build: BuildRow, opts: { registry: string | null; branch: string }): BuildSpec {
  if (app.source.type !== 'git') throw new Error(`app ${app.id} does not build from git`);
  return {
    buildId: build.id,
    appId: app.id,
    tenantId: app.owner_id,
    source: {
      url: app.source.url,
      ...(build.commit_sha ? { commitSha: build.commit_sha } : {}),
      branch: opts.branch,
    },
    strategy: 'auto',
    image: buildImageRef(app.id, build.id, opts.registry),
    registry: opts.registry,
    limits: { ...BUILD_LIMITS },
  };
}
