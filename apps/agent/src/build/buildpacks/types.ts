// What detection sees and what it decides. Pure data: the scan (source/scan-source.ts) fills a
// SourceListing from the checkout; detect.ts turns it into a BuildPlan; build-task.ts acts on it.

export const BUILDPACKS = ['dockerfile', 'node', 'python', 'go', 'php', 'static'] as const;
export type Buildpack = (typeof BUILDPACKS)[number];
export type RuntimeKind = Exclude<Buildpack, 'dockerfile'>;

export interface SourceListing {
  /** every path in the checkout (posix, relative, `.git` excluded); directories end without `/` */
  paths: ReadonlySet<string>;
  /** contents of the small root files detection reads (package.json, Procfile, …) when present */
  contents: Readonly<Record<string, string>>;
}

export interface RuntimeChoice {
  kind: string;
  version: string;
  baseImage: string;
}

export type BuildPlan =
  /** the repository's own Dockerfile at the root */
  | { buildpack: 'dockerfile'; dockerfile: null; notes: string[] }
  /** a generated Dockerfile, added to the build context as GENERATED_DOCKERFILE */
  | { buildpack: RuntimeKind; dockerfile: string; baseImage: string; notes: string[] };

/** The name the generated Dockerfile takes in the build context (a repo file of that name is replaced). */
export const GENERATED_DOCKERFILE = '.karvon.Dockerfile';

/** Root files detection reads; anything else is seen only as a path. */
export const DETECTION_FILES = ['package.json', 'Procfile', 'requirements.txt', 'pyproject.toml', 'go.mod', 'composer.json'] as const;

/**
 * Base images when the build names no runtime (an app without one chosen). The runtime catalog is
 * the operator's; these are the documented public defaults it is seeded with.
 */
export const DEFAULT_BASE_IMAGES: Readonly<Record<RuntimeKind, string>> = Object.freeze({
  node: 'node:20-bookworm-slim',
  python: 'python:3.12-slim-bookworm',
  go: 'golang:1.22-bookworm',
  php: 'php:8.3-cli-bookworm',
  static: 'busybox:latest',
});

/** The non-root user every generated image runs as (the `node` user of the Node images). */
export const APP_USER = '1000:1000';
export const DEFAULT_PORT = 8080;
