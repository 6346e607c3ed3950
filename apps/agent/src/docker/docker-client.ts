import Docker from 'dockerode';

/**
 * A dockerode client for `DOCKER_HOST` as the agent's config read it (unix:///path or
 * tcp://host:port), or the default socket. Passing it explicitly keeps the environment read in
 * one place and lets tests point an agent at another engine.
 */
export function createDockerClient(dockerHost: string | undefined): Docker {
  if (!dockerHost) return new Docker({ socketPath: '/var/run/docker.sock' });
  const url = new URL(dockerHost);
  if (url.protocol === 'unix:') return new Docker({ socketPath: url.pathname });
  if (url.protocol === 'tcp:' || url.protocol === 'http:') return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
  throw new Error(`DOCKER_HOST ${dockerHost}: only unix:// and tcp:// are supported`);
}
