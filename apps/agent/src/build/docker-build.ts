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

/** Docker build options as data (tested): no build args, no pull of newer bases, limits set. */
export function buildOptions(o: Omit<ImageBuildOptions, 'signal'>): Record<string, unknown> {
  return {
    t: o.tag,
    dockerfile: o.dockerfile,
    labels: o.labels,
    // Build args never carry the app's env: secrets would stay in the image history.
    buildargs: {},
    memory: o.memoryBytes,
    memswap: o.memoryBytes,
    cpuperiod: 100_000,
    cpuquota: Math.max(1000, Math.round(o.cpuMillicores * 100)),
    rm: true,
    forcerm: true,
    pull: false,
    version: '1',
  };
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
