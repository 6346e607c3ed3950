// The two Engine calls of a build, with their JSON message streams read line by line: POST /build
// (classic builder: it honours memory and CPU limits per RUN step) and POST /images/…/push.
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';

export interface EngineMessage {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

export interface ImageBuildOptions {
  tag: string;
  dockerfile: string;
  labels: Record<string, string>;
  memoryBytes: number;
  cpuMillicores: number;
  signal: AbortSignal;
}

/** A build may use up to this many times the CPU the planner reserved for it, when the node has it idle. */
export const BUILD_CPU_BURST = 2;
const CPU_PERIOD_US = 100_000;

/**
 * Docker build options as data (tested): no build args, no pull of newer bases, limits set.
 *
 * CPU: POST /build has no NanoCpus, only a CFS quota per period and a weight, applied to each RUN
 * step's container. The weight is proportional to the reservation (1024 per reserved core, what a
 * container gets by default), so when builds and apps contend each gets its reserved share; the
 * quota is a ceiling of BUILD_CPU_BURST × the reservation, so a build on a node with idle cores is
 * not held to one core (npm/pip/go are multi-threaded), while no tenant's build can take more than
 * twice what was reserved for it on a big shared builder. Memory stays a hard limit (no swap).
 */
export function buildOptions(o: Omit<ImageBuildOptions, 'signal'>): Record<string, unknown> {
  const reserved = Math.max(10, o.cpuMillicores);
  return {
    t: o.tag,
    dockerfile: o.dockerfile,
    labels: o.labels,
    // Build args never carry the app's env: secrets would stay in the image history.
    buildargs: {},
    memory: o.memoryBytes,
    memswap: o.memoryBytes,
    cpushares: Math.max(2, Math.round((reserved * 1024) / 1000)),
    cpuperiod: CPU_PERIOD_US,
    cpuquota: Math.round((reserved * BUILD_CPU_BURST * CPU_PERIOD_US) / 1000),
    rm: true,
    forcerm: true,
    pull: false,
    version: '1',
  };
}

// Label keys and values safe to write into a Dockerfile line as they are (ids, never free text).
const LABEL_TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/**
 * The image labels as ONE Dockerfile instruction, to append to a Dockerfile Karvon generated; or
 * undefined when a key or value is not a plain token (then the build's `labels` option sets them).
 * The classic builder turns the `labels` option into one LABEL step per label, each a container
 * create and commit (~0.1 s apiece, 0.5 s for five); one line is one step.
 */
export function labelInstruction(labels: Readonly<Record<string, string>>): string | undefined {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0 || keys.some((k) => !LABEL_TOKEN.test(k) || !LABEL_TOKEN.test(labels[k] ?? ''))) return undefined;
  return `LABEL ${keys.map((k) => `"${k}"="${labels[k] ?? ''}"`).join(' ')}\n`;
}

/**
 * `line` inserted after the last FROM of a Dockerfile Karvon generated (so in its final stage,
 * before anything that changes between builds), or appended when there is none.
 */
export function afterLastFrom(dockerfile: string, line: string): string {
  const lines = dockerfile.split('\n');
  let at = -1;
  lines.forEach((l, i) => {
    if (/^FROM\s/i.test(l.trim())) at = i;
  });
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  if (at < 0) return `${dockerfile}${dockerfile === '' || dockerfile.endsWith('\n') ? '' : '\n'}${text}\n`;
  lines.splice(at + 1, 0, text);
  return lines.join('\n');
}

/** Runs a build; every message goes to `onMessage`; resolves with the error message, if any. */
export async function runImageBuild(docker: Docker, context: Readable, o: ImageBuildOptions, onMessage: (m: EngineMessage) => void): Promise<{ error?: string; imageId?: string }> {
  const stream = await docker.buildImage(context, { ...buildOptions(o), abortSignal: o.signal } as Docker.ImageBuildOptions);
  return followMessages(stream, onMessage);
}

export async function runImagePush(docker: Docker, ref: string, signal: AbortSignal, onMessage: (m: EngineMessage) => void): Promise<{ error?: string }> {
  const { name, tag } = splitTag(ref);
  // dockerode's types say void without a callback; it returns the response stream's promise.
  const stream = await (docker.getImage(name).push({ tag, abortSignal: signal } as never) as unknown as Promise<NodeJS.ReadableStream>);
  return followMessages(stream, onMessage);
}

/** `registry:5000/app/x:tag` → name and tag (a `:` after the last `/` is the tag). */
export function splitTag(ref: string): { name: string; tag: string } {
  const at = ref.indexOf('@');
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return { name: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { name: base, tag: 'latest' };
}

async function followMessages(stream: NodeJS.ReadableStream, onMessage: (m: EngineMessage) => void): Promise<{ error?: string; imageId?: string }> {
  let buffered = '';
  let error: string | undefined;
  let imageId: string | undefined;
  const handle = (line: string) => {
    if (!line.trim()) return;
    let m: EngineMessage;
    try {
      m = JSON.parse(line) as EngineMessage;
    } catch {
      m = { stream: `${line}\n` };
    }
    if (m.error || m.errorDetail) error = m.errorDetail?.message ?? m.error;
    if (m.aux?.ID) imageId = m.aux.ID;
    onMessage(m);
  };
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) handle(l);
  }
  handle(buffered);
  return { ...(error !== undefined ? { error } : {}), ...(imageId !== undefined ? { imageId } : {}) };
}
