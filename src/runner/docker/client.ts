import Docker from 'dockerode';
import { UserFacingError } from '../../model/common/errors';

/**
 * Connects to the engine named by `host` (unix:///path or tcp://host:port), else DOCKER_HOST, else the
 * default local socket.
 */
export function connectDocker(host?: string): Docker {
  const target = host?.trim();
  if (!target) return new Docker();
  if (target.startsWith('unix://')) return new Docker({ socketPath: target.slice('unix://'.length) });
  const url = new URL(target.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
}

export function describeDockerHost(docker: Docker): string {
  const opts = docker.modem as unknown as { socketPath?: string; host?: string; port?: number };
  return opts.socketPath ? `unix://${opts.socketPath}` : `tcp://${opts.host}:${opts.port}`;
}

const HOW_TO_START =
  'Start Docker (Docker Desktop, or "sudo systemctl start docker" on Linux; on a bare Debian machine as root, ' +
  '"npm run docker" in the ML Workbench repository installs and starts it), then try again.';

/** Fails fast, with how to fix it, when no engine answers. */
export async function ensureDockerReachable(docker: Docker, timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    throw new UserFacingError(
      `Docker is not reachable at ${describeDockerHost(docker)} (${(err as Error).message}). ${HOW_TO_START}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

/** Inspects an image, or returns undefined when the engine does not have it. */
export async function inspectImage(docker: Docker, ref: string): Promise<Docker.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
