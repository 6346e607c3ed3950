// Is a Docker engine there? Asked the way the agent's dockerode asks: DOCKER_HOST (unix:// or
// tcp://), else /var/run/docker.sock. Also which of the runtimes' base images it already has,
// since the quickstart never pulls and a machine without a registry needs them made locally.
import http from 'node:http';

/** @param {Record<string, string | undefined>} env */
export function engineTarget(env) {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return { socketPath: '/var/run/docker.sock', label: 'unix:///var/run/docker.sock' };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length), label: host };
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375), label: host };
}

/**
 * @param {Record<string, string | undefined>} env @param {string} path @param {number} [timeoutMs]
 * @returns {Promise<{ status: number, body: string }>}
 */
function engineGet(env, path, timeoutMs = 3_000) {
  const { label: _label, ...target } = engineTarget(env);
  return new Promise((resolve, reject) => {
    const req = http.get({ ...target, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** @param {Record<string, string | undefined>} env @returns {Promise<{ ok: true } | { ok: false, reason: string }>} */
export async function pingEngine(env) {
  try {
    const res = await engineGet(env, '/_ping');
    return res.status === 200 ? { ok: true } : { ok: false, reason: `answered ${res.status}` };
  } catch (e) {
    return { ok: false, reason: /** @type {Error} */ (e).message };
  }
}

/** The references among `images` the engine does not have. @param {Record<string, string | undefined>} env @param {string[]} images */
export async function missingImages(env, images) {
  const missing = [];
  for (const image of images) {
    const res = await engineGet(env, `/images/${encodeURIComponent(image)}/json`).catch(() => ({ status: 0 }));
    if (res.status !== 200) missing.push(image);
  }
  return missing;
}
