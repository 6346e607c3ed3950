// Images a node does not have are pulled before their container is created: a release built on
// another node of the region is pushed to the region's registry and named with its host. A pull
// that fails keeps Docker's "No such image" words in the error, which the control plane reads as
// IMAGE_NOT_FOUND for the deploy.
import type Docker from 'dockerode';
import type { Logger } from 'pino';

export async function pullImage(docker: Docker, ref: string, log: Logger): Promise<void> {
  log.info({ image: ref }, 'pulling image');
  try {
    const stream = await docker.pull(ref);
    const output = await new Promise<Array<{ error?: string }>>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, res: Array<{ error?: string }>) => (err ? reject(err) : resolve(res))),
    );
    const failed = output.find((o) => o.error);
    if (failed) throw new Error(failed.error);
  } catch (e) {
    throw new Error(`No such image: ${ref}; pull failed: ${(e as Error).message}`);
  }
}

/** Docker's answer to creating a container from an image it does not have. */
export const isMissingImage = (e: unknown): boolean => (e as { statusCode?: number }).statusCode === 404 && /no such image/i.test((e as Error).message);
