import type Docker from 'dockerode';
import { UserFacingError } from '../../model/common/errors';

/**
 * The one module that creates Docker clients and names the labels ML Workbench puts on what it creates.
 * dockerode (with ssh2 and grpc behind it) is most of the host code by size, so it is required here, on the
 * first client asked for, never at load: activation and short CLI commands that never talk to Docker skip it.
 */

/** Label on every run container: the run's id, how any process finds a run's container. */
export const RUN_ID_LABEL = 'mlw.run-id';
/** Label on every run container: the workspace folder whose store holds the run. */
export const WORKSPACE_LABEL = 'mlw.workspace';
/** Label on every environment image ML Workbench builds: the content hash its tag abbreviates. */
export const ENV_HASH_LABEL = 'mlw.env-hash';
/** Repository of environment images ML Workbench builds (clean-up only ever removes these). */
export const ENV_IMAGE_REPO = 'mlw-env';

/** Where the docker CLI and dockerode look when no host is given (on Linux). */
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

const clients = new Map<string, Docker>();

function dockerode(): typeof Docker {
  // A require inside a function runs when called; bundled, it loads dist/docker.js (scripts/bundles.mjs).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('dockerode') as typeof Docker;
}

/**
 * The client of the engine named by `host` (unix:///path or tcp://host:port), else DOCKER_HOST, else the
 * default local socket. One client per host string, shared by every caller in the process.
 */
export function connectDocker(host?: string): Docker {
  const target = host?.trim() ?? '';
  let client = clients.get(target);
  if (!client) {
    client = createClient(target);
    clients.set(target, client);
  }
  return client;
}

function createClient(target: string): Docker {
  const DockerClient = dockerode();
  if (!target) return new DockerClient();
  if (target.startsWith('unix://')) return new DockerClient({ socketPath: target.slice('unix://'.length) });
  const url = new URL(target.replace(/^tcp:/, 'http:'));
  return new DockerClient({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
}

export function describeDockerHost(docker: Docker): string {
  const opts = docker.modem as unknown as { socketPath?: string | (() => Promise<string>); host?: string; port?: number };
  // With no host given, docker-modem keeps a function that finds the default socket when first connecting.
  if (typeof opts.socketPath === 'function') return DEFAULT_DOCKER_HOST;
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
