// The image the panel's real-agent test deploys: built offline FROM the locally imported busybox.
// It serves a fixed page with busybox httpd on $PORT and writes a numbered log line with markup in
// it every second, so the test can see live runtime logs and check they are shown as text.
import type Docker from 'dockerode';
import { BUSYBOX_IMAGE } from '../../../test/docker/base-images';
import { tarStream } from '../../../test/docker/tar';

export const WEB_IMAGE = 'karvon-panel-test/web:latest';
export const WEB_PAGE = 'panel-e2e: served by busybox httpd';
/** the markup every log line carries: `<b class="xss-log">tick N</b>` */
export const LOG_MARKUP_CLASS = 'xss-log';

const START = [
  'httpd -f -p "$PORT" -h /www &',
  'echo "serving on $PORT"',
  'i=0',
  `while :; do echo "<b class=\\"${LOG_MARKUP_CLASS}\\">tick $i</b>"; i=$((i+1)); sleep 1; done`,
  '',
].join('\n');

/** `docker build` of WEB_IMAGE (no RUN steps: nothing to pull, nothing to execute while building). */
export async function buildWebImage(docker: Docker): Promise<void> {
  const dockerfile = [`FROM ${BUSYBOX_IMAGE}`, 'COPY index.html /www/index.html', 'COPY start.sh /start.sh', 'USER 1000', 'CMD ["sh", "/start.sh"]', ''].join('\n');
  const context = tarStream([
    { type: 'file', path: 'Dockerfile', content: dockerfile },
    { type: 'file', path: 'index.html', content: `${WEB_PAGE}\n` },
    { type: 'file', path: 'start.sh', content: START },
  ]);
  const stream = await docker.buildImage(context, { t: WEB_IMAGE, labels: { 'karvon.test-image': 'panel-web' } });
  const output = await new Promise<Array<{ error?: string }>>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, res: Array<{ error?: string }>) => (err ? reject(err) : resolve(res))),
  );
  const failed = output.find((o) => o.error);
  if (failed) throw new Error(`building ${WEB_IMAGE}: ${failed.error}`);
}
