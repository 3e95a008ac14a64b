import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { ensureDockerReachable, isNotFound } from '../../docker/client';
import { DockerLogDemuxer } from '../../docker/logDemux';
import { Execution, ExitStatus, LogStreamName, TargetGoneError } from '../computeTarget';
import { CONTAINER_OUTPUTS, CONTAINER_TRACKING } from './containerPaths';

const HEARTBEAT_MS = 2000;

export function isConnectionError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return ['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT'].includes(code ?? '') || /socket hang up|aborted/i.test(String((err as Error).message));
}

/** A time from docker inspect as ISO 8601 (milliseconds); undefined for Docker's "never" (0001-01-01) or garbage. */
function engineTime(value: string | undefined): string | undefined {
  const ms = value ? Date.parse(value) : NaN;
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
}

/** Whether the engine's socket takes a new connection (not a kept-alive one). */
async function acceptsConnections(docker: Docker): Promise<boolean> {
  const modem = docker.modem as unknown as { socketPath?: string | (() => Promise<string>); host?: string; port?: number };
  // docker-modem's default is a function that finds the socket.
  const socketPath = typeof modem.socketPath === 'function' ? await modem.socketPath() : modem.socketPath;
  return new Promise((resolve) => {
    const socket = socketPath ? net.connect({ path: socketPath }) : net.connect({ host: modem.host ?? '127.0.0.1', port: Number(modem.port ?? 2375) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(3000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The engine was shut down (gracefully) while it ran the container, and stopped it on the way out. */
export class EngineStoppedError extends TargetGoneError {}

/** Host folders bind-mounted as a run's outputs and tracking folders. */
interface HostFolders {
  outputs?: string;
  tracking?: string;
}

/** One run container. Outputs and tracking are bind mounts, so collecting copies only when asked for elsewhere. */
export class LocalDockerExecution implements Execution {
  private inspected?: Docker.ContainerInspectInfo;

  constructor(
    private readonly docker: Docker,
    private readonly container: Docker.Container,
    private folders?: HostFolders,
  ) {}

  get id(): string {
    return this.container.id;
  }

  async start(): Promise<void> {
    await this.container.start();
  }

  /** The skip-bytes follower: frames are demultiplexed, and the first `fromByte` payload bytes dropped. */
  async followLogs(fromByte: number, onChunk: (stream: LogStreamName, chunk: Buffer) => void, options: { follow?: boolean } = {}): Promise<void> {
    let skip = fromByte;
    const demux = new DockerLogDemuxer((stream, payload) => {
      if (skip >= payload.length) {
        skip -= payload.length;
        return;
      }
      const fresh = skip ? payload.subarray(skip) : payload;
      skip = 0;
      onChunk(stream, fresh);
    });
    if (options.follow ?? true) {
      const stream = (await this.container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (chunk: Buffer) => demux.push(chunk));
        stream.on('end', resolve);
        // A connection cut mid-stream may only 'close'; the exit wait's heartbeat reports why.
        stream.on('close', resolve);
        stream.on('error', reject);
      });
    } else {
      demux.push((await this.container.logs({ follow: false, stdout: true, stderr: true })) as unknown as Buffer);
    }
  }

  /**
   * Waits for the container to exit, pinging the engine meanwhile: when the engine (or the connection to
   * it) dies, a pending wait request can hang forever instead of failing, so the heartbeat is what notices.
   */
  async wait(): Promise<ExitStatus> {
    const waited = this.container.wait() as Promise<{ StatusCode: number }>;
    const exit = await new Promise<{ StatusCode: number }>((resolve, reject) => {
      const heartbeat = setInterval(() => {
        ensureDockerReachable(this.docker, 3000).catch((err: Error) => {
          clearInterval(heartbeat);
          reject(new TargetGoneError(err.message.replace(/\. Start Docker.*$/s, '')));
        });
      }, HEARTBEAT_MS);
      waited.then(
        (result) => {
          clearInterval(heartbeat);
          resolve(result);
        },
        (err: Error) => {
          clearInterval(heartbeat);
          reject(isConnectionError(err) ? new TargetGoneError(err.message) : err);
        },
      );
    });
    // A stopping dockerd first closes its socket to new connections, then stops its containers, answering the
    // waits still open: a signal exit the engine reports as it stops taking connections is its shutdown
    // stopping the run, not the script's own end. (Kept-alive connections still answer, so a request would not tell.)
    if (exit.StatusCode > 128 && !(await acceptsConnections(this.docker))) {
      throw new EngineStoppedError(`it stopped the container as it shut down, exit code ${exit.StatusCode}`);
    }
    this.inspected = await this.container.inspect().catch(() => undefined);
    const state = this.inspected?.State;
    return { exitCode: exit.StatusCode, oomKilled: !!state?.OOMKilled, startedAt: engineTime(state?.StartedAt), finishedAt: engineTime(state?.FinishedAt) };
  }

  async cancel(options: { now?: boolean } = {}): Promise<void> {
    const stopped = options.now ? this.container.kill() : this.container.stop({ t: 5 });
    await stopped.catch((err: { statusCode?: number }) => {
      // 304: already stopped; 404: already gone; 409 (kill): not running. All mean there is nothing left to stop.
      if (!isNotFound(err) && err.statusCode !== 304 && err.statusCode !== 409) throw err;
    });
  }

  async collectOutputs(destDir: string): Promise<void> {
    await this.collect(CONTAINER_OUTPUTS, (await this.hostFolders()).outputs, destDir);
  }

  async collectTracking(destDir: string): Promise<void> {
    await this.collect(CONTAINER_TRACKING, (await this.hostFolders()).tracking, destDir);
  }

  async remove(): Promise<void> {
    await this.container.remove({ force: true });
  }

  /** From create, else from the container's mounts (a container found by run id, e.g. on reattach). */
  private async hostFolders(): Promise<HostFolders> {
    if (!this.folders) {
      const info = this.inspected ?? (await this.container.inspect().catch(() => undefined));
      const source = (target: string) => info?.Mounts?.find((m) => m.Destination === target)?.Source;
      this.folders = { outputs: source(CONTAINER_OUTPUTS), tracking: source(CONTAINER_TRACKING) };
    }
    return this.folders;
  }

  private async collect(mountPoint: string, source: string | undefined, destDir: string): Promise<void> {
    if (!source) throw new Error(`container ${this.id.slice(0, 12)} has no ${mountPoint} mount to collect from`);
    if (path.resolve(source) === path.resolve(destDir)) return;
    // Links are copied as links: whatever they point to stays outside, for the outputs reader to refuse.
    await fs.promises.cp(source, destDir, { recursive: true, force: true, verbatimSymlinks: true });
  }
}
