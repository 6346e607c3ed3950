// What a builder node is asked to do for one build (protocol `build` task), from the app and the
// build row. Pure. The image is named for the app and the build; with a region registry the
// reference carries its host so the nodes that run the release pull it from there.
import type { Task } from '@karvon/protocol';
import type { AppRow } from '../apps/app-row';
import { DEFAULT_GIT_USERNAME, isHttpsUrl } from '../apps/git-credentials';
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
      ...sealedAuth(app, app.source.url),
    },
    strategy: 'auto',
    image: buildImageRef(app.id, build.id, opts.registry),
    registry: opts.registry,
    limits: { ...BUILD_LIMITS },
  };
}

/**
 * The credential for the source, still SEALED: the task row keeps it as the app row does, and it is
 * opened only into the frame sent to the builder (build-task-secrets.ts). A token goes only with
 * an https URL, the deploy key only with an ssh one.
 */
function sealedAuth(app: AppRow, url: string): Pick<BuildSpec['source'], 'auth'> {
  if (isHttpsUrl(url)) {
    return app.git_token_ciphertext ? { auth: { type: 'token', username: app.git_token_username ?? DEFAULT_GIT_USERNAME, token: app.git_token_ciphertext } } : {};
  }
  return app.deploy_key_private_ciphertext ? { auth: { type: 'ssh-key', privateKey: app.deploy_key_private_ciphertext, knownHosts: app.git_known_hosts ?? '' } } : {};
}
