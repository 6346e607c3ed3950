// The `build` task: check the source, clone one commit, detect a buildpack, docker build with the
// spec's limits and timeout, push when the region has a registry, remove the workdir. Each step
// reports through the build log ("-----> clone: …"); each failure is a BuildFailure with its code.
//
//   build-task.ts (acts)  ── git/check-source.ts (URL, branch, host rules)   git/clone.ts (git/run-git.ts)
//                         ── source/scan-source.ts (listing + symlink check)  buildpacks/detect.ts (pure)
//                         ── source/context-tar.ts (the context)              docker-build.ts (Engine calls)
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { BuildTaskSpec, Task } from '@karvon/protocol';
import type { TaskHandler } from '../tasks/task-runner';
import { BuildFailure } from './build-failure';
import { createBuildLog, type BuildLog } from './build-log';
import { detectBuildpack } from './buildpacks/detect';
import { GENERATED_DOCKERFILE, type Buildpack } from './buildpacks/types';
import { LABELS } from '../runtime/labels';
import { afterLastFrom, labelInstruction, runImageBuild, runImagePush, splitTag, type EngineMessage } from './docker-build';
import { checkGitSource, resolveWithDns, type ResolveHost } from './git/check-source';
import { cloneCommit } from './git/clone';
import { contextTar, type TarInput } from './source/context-tar';
import { scanSource } from './source/scan-source';

export interface BuildTaskDeps {
  docker: Docker;
  nodeId: string;
  /** one fresh folder per build is made (and removed) under it */
  buildDir: string;
  gitAllowedHosts: readonly string[];
  gitCaFile?: string | undefined;
  resolveHost?: ResolveHost;
  /** the largest checkout sent as a build context */
  maxContextBytes?: number;
}

export interface BuildResult {
  /** the reference nodes run (pull from the registry when one was given) */
  image: string;
  imageId: string;
  commitSha: string;
  buildpack: Buildpack;
  durationMs: number;
  /** with a deploy key: the host keys known after the fetch, for the control plane to keep (trust on first use) */
  knownHosts?: string;
}

export const DEFAULT_BUILD_TIMEOUT_MS = 15 * 60_000;
const CLONE_TIMEOUT_MS = 5 * 60_000;
const FAILURE_TAIL_LINES = 20;
// The task runner keeps the first 2000 characters of a failure message.
const MESSAGE_CHARS = 1900;

/** The reference pushed to `registry`: the spec's image when it already names that registry, else prefixed with it. */
export function pushReference(image: string, registry: string): string {
  return image.startsWith(`${registry}/`) ? image : `${registry}/${image}`;
}

export function imageLabels(spec: BuildTaskSpec, nodeId: string): Record<string, string> {
  return {
    'karvon.managed': 'true',
    'karvon.node': nodeId,
    'karvon.app': spec.appId,
    'karvon.tenant': spec.tenantId,
    // What the image GC orders by creation time (gc/image-gc-plan.ts); the build itself is in the
    // tag. No per-build value: the LABEL line is then the same for every build of the app on this
    // node, and the builder's cache answers it.
    [LABELS.built]: 'true',
  };
}

export function createBuildTask(deps: BuildTaskDeps): TaskHandler {
  return async (task, ctx) => {
    const spec = (task as Task<'build'>).payload;
    const started = Date.now();
    const log = createBuildLog((lines) => ctx.progress(lines));
    const timeoutMs = spec.limits.timeoutMs || DEFAULT_BUILD_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([ctx.signal, timeout]);
    const stopped = (phase: string): BuildFailure =>
      ctx.signal.aborted
        ? new BuildFailure('BUILD_CANCELLED', `the build was cancelled during ${phase}`)
        : new BuildFailure('BUILD_TIMEOUT', withTail(`the build did not finish within ${Math.round(timeoutMs / 1000)} s (during ${phase}); make the build faster or ask for a longer build timeout. Last lines:`, log.tail(FAILURE_TAIL_LINES)));
    let workdir: string | undefined;
    try {
      // Everything about the input is checked before anything is written or fetched.
      log.line('-----> clone');
      const source = await checkGitSource(spec.source, deps.gitAllowedHosts, deps.resolveHost ?? resolveWithDns);
      await mkdir(deps.buildDir, { recursive: true, mode: 0o700 });
      workdir = path.join(deps.buildDir, `${spec.buildId.replace(/[^A-Za-z0-9._-]/g, '_')}-${randomBytes(4).toString('hex')}`);
      await mkdir(workdir, { mode: 0o700 });
      const { commitSha, knownHosts } = await cloneCommit({
        dir: path.join(workdir, 'src'),
        home: path.join(workdir, 'home'),
        // Beside src/, never inside it: the build context is made from src/ only.
        sshDir: path.join(workdir, 'ssh'),
        source,
        auth: spec.source.auth,
        caFile: deps.gitCaFile,
        timeoutMs: Math.min(CLONE_TIMEOUT_MS, timeoutMs),
        signal,
        log: (l) => log.line(l),
      }).catch((e: unknown) => {
        throw timeout.aborted || ctx.signal.aborted ? stopped('clone') : e;
      });

      log.line('-----> detect');
      const scanned = await scanSource(path.join(workdir, 'src'), { maxBytes: deps.maxContextBytes ?? 1024 * 2 ** 20 });
      const detection = detectBuildpack(scanned.listing, spec.strategy, spec.runtime);
      if (!detection.ok) throw new BuildFailure('NO_BUILDPACK', detection.message);
      const { plan } = detection;
      log.line(`detect: ${plan.buildpack}${plan.buildpack === 'dockerfile' ? '' : ` (base image ${plan.baseImage})`}`);
      for (const note of plan.notes) log.line(`detect: ${note}`);

      log.line('-----> build');
      const labels = imageLabels(spec, deps.nodeId);
      // A generated Dockerfile carries the labels itself, in one step right after its last FROM,
      // where the builder's cache answers it from the second build on; a customer's gets them from
      // the build option.
      const labelLine = plan.dockerfile === null ? undefined : labelInstruction(labels);
      const inputs: TarInput[] =
        plan.dockerfile === null
          ? scanned.entries
          : [...scanned.entries.filter((e) => e.path !== GENERATED_DOCKERFILE), { type: 'memory', path: GENERATED_DOCKERFILE, mode: 0o644, content: Buffer.from(labelLine === undefined ? plan.dockerfile : afterLastFrom(plan.dockerfile, labelLine)) }];
      const onBuild = (m: EngineMessage) => {
        if (m.stream) log.write(m.stream);
        else if (m.status) log.line(m.status);
        if (m.errorDetail?.message ?? m.error) log.line(`error: ${m.errorDetail?.message ?? m.error ?? ''}`);
      };
      const built = await runImageBuild(
        deps.docker,
        contextTar(inputs),
        {
          tag: spec.image,
          dockerfile: plan.dockerfile === null ? 'Dockerfile' : GENERATED_DOCKERFILE,
          labels: labelLine === undefined ? labels : {},
          memoryBytes: spec.limits.memoryMb * 2 ** 20,
          cpuMillicores: spec.limits.cpuMillicores,
          signal,
        },
        onBuild,
      ).catch((e: unknown) => {
        if (signal.aborted) throw stopped('build');
        throw new BuildFailure('BUILD_FAILED', `the Docker engine refused the build: ${(e as Error).message}`);
      });
      log.flush();
      if (signal.aborted) throw stopped('build');
      if (built.error !== undefined) throw failedBuild(built.error, log);
      const inspected = await deps.docker
        .getImage(spec.image)
        .inspect()
        .catch(() => undefined);
      if (!inspected) throw failedBuild('the engine reported no image', log);
      log.line(`build: ${spec.image} (${inspected.Id.slice(0, 19)})`);

      let image = spec.image;
      if (spec.registry) {
        log.line('-----> push');
        image = pushReference(spec.image, spec.registry);
        const { name, tag } = splitTag(image);
        if (image !== spec.image) await deps.docker.getImage(spec.image).tag({ repo: name, tag });
        const pushed = await runImagePush(deps.docker, image, signal, (m) => {
          // Per-layer progress bars would flood the log: only state changes are kept.
          if (m.status && !m.progress) log.line(`push: ${m.id ? `${m.id}: ` : ''}${m.status}`);
        }).catch((e: unknown) => {
          if (signal.aborted) throw stopped('push');
          return { error: (e as Error).message };
        });
        if (pushed.error !== undefined) {
          throw new BuildFailure('PUSH_FAILED', `pushing ${image} to the registry ${spec.registry} failed: ${pushed.error}; check that the registry is running and reachable from this node`);
        }
        log.line(`push: ${image}`);
      }
      log.line(`-----> done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const result: BuildResult = { image, imageId: inspected.Id, commitSha, buildpack: plan.buildpack, durationMs: Date.now() - started, ...(knownHosts !== undefined ? { knownHosts } : {}) };
      return result;
    } catch (e) {
      if (e instanceof BuildFailure) log.line(`-----> failed: ${e.code}`);
      throw e;
    } finally {
      log.flush();
      if (workdir) await rm(workdir, { recursive: true, force: true }).catch(() => undefined);
    }
  };
}

function failedBuild(error: string, log: BuildLog): BuildFailure {
  const tail = log.tail(FAILURE_TAIL_LINES).filter((l) => !l.startsWith('-----> '));
  return new BuildFailure('BUILD_FAILED', withTail(`the build failed: ${error.trim().slice(0, 500)}; fix the step below (the full log is in the deploy's log)`, tail));
}

/** The message and as many of the last lines as fit the task result's message limit (the newest kept). */
export function withTail(head: string, lines: readonly string[], max = MESSAGE_CHARS): string {
  const kept: string[] = [];
  let size = head.length + 1;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').slice(0, 300);
    if (size + line.length + 1 > max) break;
    kept.unshift(line);
    size += line.length + 1;
  }
  return kept.length > 0 ? `${head}\n${kept.join('\n')}` : head;
}
