import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { UserFacingError } from '../model/common/errors';
import { RUN_SCHEMA_VERSION, RunOptions, RunRecord, isTerminal, newRunId } from '../model/runs/run';
import { RunStore } from '../model/runs/runStore';
import { ensureDockerReachable, inspectImage, isNotFound } from './docker/client';
import { DockerLogDemuxer, LogStreamName } from './docker/logDemux';
import { EnvironmentResolver, ImageBuildError, baseImageMissing, detectEnvironment, imageMissing, needsBaseImage } from './environment';
import { readGitState } from './gitLineage';
import { RunQueue } from './runQueue';
import { copySnapshot, hashSnapshot, planSnapshot } from './snapshot';
import { readRunTracking } from './runTracking';

export const RUN_ID_LABEL = 'mlw.run-id';
export const WORKSPACE_LABEL = 'mlw.workspace';
const CONTAINER_WORKSPACE = '/workspace';
const CONTAINER_HELPER = '/mlw/lib';
const CONTAINER_TRACKING = '/mlw/tracking';

export interface RunRequest {
  workspaceRoot: string;
  /** Absolute path of the Python script. */
  script: string;
  args: string[];
  baseImage: string;
  snapshotMaxBytes: number;
  options?: RunOptions;
}

/** Where a run's live output goes (an output channel, a terminal); logs.txt is written by the runner itself. */
export interface RunListener {
  onBuildOutput?(runId: string, text: string): void;
  onOutput?(runId: string, stream: LogStreamName, chunk: Buffer): void;
  onStatus?(run: RunRecord): void;
}

export interface RunHandle {
  readonly id: string;
  /** Resolves with the final record once the run is Completed, Failed, Canceled or Lost. Never rejects. */
  readonly done: Promise<RunRecord>;
  cancel(): Promise<void>;
}

export interface RunnerOptions {
  /** Shared across runners of one process to cap concurrent runs (mlw.maxConcurrentRuns). */
  queue?: RunQueue;
  /** Folder holding the `mlw` Python package (mounted read-only into every run). */
  helperDir?: string;
}

/** Finds the repository's python/ folder from wherever this module was bundled or compiled to. */
export function defaultHelperDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'python');
    if (fs.existsSync(path.join(candidate, 'mlw', '__init__.py'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`cannot find python/mlw/__init__.py above ${__dirname}`);
  }
}

/** Exit codes 128+N mean the process died of signal N. */
export function describeExit(code: number, oomKilled: boolean): string {
  if (oomKilled) return `Out of memory (exit code ${code}): the kernel killed the script at its memory limit; raise resources.memory in the run configuration.`;
  if (code === 137) return 'Killed (SIGKILL, exit code 137).';
  if (code > 128 && code < 160) return `Terminated by signal ${code - 128} (exit code ${code}).`;
  return `Script exited with code ${code}.`;
}

export function formatSeconds(s: number): string {
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

const HEARTBEAT_MS = 2000;

/** The engine stopped answering while a run was being followed. */
class DockerGoneError extends Error {}

function isConnectionError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return ['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE', 'ETIMEDOUT'].includes(code ?? '') || /socket hang up|aborted/i.test(String((err as Error).message));
}

/** The uid:gid a run's process uses: never root; the caller's own ids when they are not root. */
function containerUser(): { uid: number; gid: number } {
  const uid = process.getuid?.() ?? 1000;
  const gid = process.getgid?.() ?? 1000;
  return uid === 0 ? { uid: 1000, gid: 1000 } : { uid, gid };
}

function owner(): { pid: number; host: string } {
  return { pid: process.pid, host: os.hostname() };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface RunState {
  canceled: boolean;
  timedOut: boolean;
  container?: Docker.Container;
  /** Resolves when the user cancels; lets a queued run stop waiting for a slot. */
  canceledSignal: Promise<void>;
  signalCancel: () => void;
}

function newRunState(container?: Docker.Container): RunState {
  let signalCancel: () => void = () => undefined;
  const canceledSignal = new Promise<void>((resolve) => (signalCancel = resolve));
  return { canceled: false, timedOut: false, container, canceledSignal, signalCancel };
}

/**
 * Runs a Python script as an experiment: snapshot → environment image → detached container → logs,
 * metrics and status recorded in the RunStore. Runs are labelled containers, so a later process can
 * reattach to them (reconcile). No vscode import: the extension and the CLI share it.
 */
export class ExperimentRunner {
  readonly environments: EnvironmentResolver;
  readonly queue: RunQueue;
  readonly helperDir: string;
  private readonly active = new Map<string, RunHandle>();

  constructor(
    readonly docker: Docker,
    readonly store: RunStore,
    options: RunnerOptions = {},
  ) {
    this.environments = new EnvironmentResolver(docker);
    this.queue = options.queue ?? new RunQueue(2);
    this.helperDir = options.helperDir ?? defaultHelperDir();
  }

  handle(id: string): RunHandle | undefined {
    return this.active.get(id);
  }

  /**
   * Checks everything that can be checked before a run exists (script, Docker, images, GPUs, snapshot
   * size), throwing UserFacingError with the fix; then records a Queued run, copies the snapshot and
   * queues it. The returned handle's `done` settles when the run ends.
   */
  async submit(req: RunRequest, listener: RunListener = {}): Promise<RunHandle> {
    const scriptRel = this.validateScript(req);
    const options = req.options ?? {};
    await ensureDockerReachable(this.docker);
    const scriptDir = path.posix.dirname(scriptRel) === '.' ? '' : path.posix.dirname(scriptRel);
    const kind = detectEnvironment(req.workspaceRoot, req.workspaceRoot, scriptDir, options.image).kind;
    if (kind === 'image' && !(await inspectImage(this.docker, options.image!))) {
      throw imageMissing(options.image!, `"image" in run configuration ${options.configName ?? ''}`.trim());
    }
    if (needsBaseImage(kind)) {
      if (!req.baseImage.trim()) throw new UserFacingError('No base image is set. Set mlw.baseImage (for example python:3.12-slim) and try again.');
      if (!(await inspectImage(this.docker, req.baseImage))) throw baseImageMissing(req.baseImage);
    }
    await this.checkGpus(options);
    // Independent reads of the workspace, both on the path to the first output line: run them together.
    const [plan, git] = await Promise.all([planSnapshot(req.workspaceRoot, req.snapshotMaxBytes), readGitState(req.workspaceRoot)]);
    if (!plan.entries.some((e) => e.rel === scriptRel)) {
      throw new UserFacingError(
        `${scriptRel} is excluded from the snapshot by .gitignore or .mlwignore, so the run could not see it. Remove the rule or move the script.`,
      );
    }

    const record: RunRecord = {
      schemaVersion: RUN_SCHEMA_VERSION,
      id: newRunId(),
      script: scriptRel,
      args: req.args,
      status: 'Queued',
      createdAt: new Date().toISOString(),
      git: git && git.patch ? { ...git.lineage, patch: 'git.patch' } : git?.lineage,
      snapshot: { files: plan.files, bytes: plan.bytes },
      ...(Object.keys(options).length ? { options } : {}),
      owner: owner(),
    };
    await this.store.create(record);
    if (git?.patch) await fs.promises.writeFile(path.join(this.store.paths(record.id).dir, 'git.patch'), git.patch);
    listener.onStatus?.(record);

    return this.launch(record, listener, async () => {
      await copySnapshot(plan, this.store.paths(record.id).snapshot);
      return this.resolveEnvironment(record, req, scriptDir, listener);
    });
  }

  /** Runs a past run again: same snapshot, same image id, same arguments and options; linked to its parent. */
  async rerun(parentId: string, listener: RunListener = {}): Promise<RunHandle> {
    const parent = await this.store.get(parentId);
    if (!parent) throw new UserFacingError(`Run ${parentId} does not exist.`);
    const parentPaths = this.store.paths(parentId);
    if (!parent.imageId || !fs.existsSync(parentPaths.snapshot)) {
      throw new UserFacingError(`Run ${parentId} never got as far as an image and a snapshot, so there is nothing to rerun; run the script again instead.`);
    }
    await ensureDockerReachable(this.docker);
    if (!(await inspectImage(this.docker, parent.imageId))) {
      throw new UserFacingError(
        `The image of run ${parentId} (${parent.imageId.slice(0, 19)}) is no longer in the Docker engine, so it cannot be rerun exactly. Run the script again to rebuild its environment.`,
      );
    }
    await this.checkGpus(parent.options ?? {});
    const record: RunRecord = {
      schemaVersion: RUN_SCHEMA_VERSION,
      id: newRunId(),
      script: parent.script,
      args: parent.args,
      status: 'Queued',
      createdAt: new Date().toISOString(),
      git: parent.git,
      snapshot: parent.snapshot ? { files: parent.snapshot.files, bytes: parent.snapshot.bytes } : undefined,
      options: parent.options,
      parentId,
      owner: owner(),
    };
    await this.store.create(record);
    const paths = this.store.paths(record.id);
    if (parent.git?.patch && fs.existsSync(path.join(parentPaths.dir, parent.git.patch))) {
      await fs.promises.copyFile(path.join(parentPaths.dir, parent.git.patch), path.join(paths.dir, parent.git.patch));
    }
    listener.onStatus?.(record);
    return this.launch(record, listener, async () => {
      await fs.promises.cp(parentPaths.snapshot, paths.snapshot, { recursive: true, verbatimSymlinks: true });
      const environment = { ...parent.environment!, imageId: parent.imageId!, built: false };
      await this.store.update(record.id, { environment, imageId: parent.imageId });
      return parent.imageId!;
    });
  }

  /**
   * Cancels a run whoever follows it: an active one here directly; otherwise it records the request (so the
   * process following the container reports Canceled) and stops the container.
   */
  async cancel(id: string): Promise<RunRecord | undefined> {
    const local = this.active.get(id);
    if (local) {
      await local.cancel();
      return local.done;
    }
    const run = await this.store.get(id);
    if (!run) throw new UserFacingError(`Run ${id} does not exist.`);
    if (isTerminal(run.status)) return run;
    await this.store.update(id, { cancelRequested: true });
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${id}`] } });
    for (const c of containers) await this.docker.getContainer(c.Id).stop({ t: 5 }).catch(() => undefined);
    if (!containers.length && run.owner && !(run.owner.host === os.hostname() && processAlive(run.owner.pid))) {
      return this.finish(id, { status: 'Canceled', reason: 'Canceled by user before it started.' }, {});
    }
    return this.store.get(id);
  }

  /**
   * Brings runs left Queued/Running by a process that is gone up to date. mode 'attach' follows containers
   * still running until they end (the extension); 'catch-up' only appends the logs written so far and
   * finalizes runs that already ended (a short CLI command). Finished-while-away runs get their status,
   * exit code and remaining logs from the container; runs whose container is gone become Lost.
   */
  async reconcile(mode: 'attach' | 'catch-up', listener: RunListener = {}): Promise<RunRecord[]> {
    const touched: RunRecord[] = [];
    // Only runs not yet ended can need it: the index finds them without reading every run.json.
    const candidates = (await this.store.listSummaries()).filter((s) => !isTerminal(s.status) && !this.active.has(s.id));
    for (const candidate of candidates) {
      const run = await this.store.get(candidate.id).catch(() => undefined);
      if (!run || isTerminal(run.status) || this.active.has(run.id)) continue;
      if (run.owner && run.owner.host === os.hostname() && run.owner.pid !== process.pid && processAlive(run.owner.pid)) continue;
      const [info] = await this.docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${run.id}`] } });
      if (!info) {
        touched.push(
          await this.finish(run.id, {
            status: 'Lost',
            reason:
              run.status === 'Queued'
                ? 'The process that queued this run ended before it started.'
                : 'Its container is gone (removed, or Docker restarted) while no ML Workbench process was following it; the outcome is unknown.',
          }, listener),
        );
        continue;
      }
      const container = this.docker.getContainer(info.Id);
      if (info.State === 'running' && mode === 'catch-up') {
        await this.streamLogs(run.id, container, false, listener);
        continue;
      }
      await this.store.update(run.id, { owner: owner(), containerId: info.Id });
      if (info.State === 'created') {
        await container.remove({ force: true }).catch(() => undefined);
        touched.push(await this.finish(run.id, { status: 'Lost', reason: 'The process that created its container ended before starting it.' }, listener));
        continue;
      }
      const state = newRunState(container);
      const done = this.follow(run.id, container, state, listener).catch((err: Error) => this.failed(run.id, err, listener));
      const handle = this.register(run.id, state, done);
      if (mode === 'catch-up' || info.State !== 'running') touched.push(await handle.done);
      else touched.push((await this.store.get(run.id))!);
    }
    return touched;
  }

  private validateScript(req: RunRequest): string {
    const rel = path.relative(req.workspaceRoot, req.script);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new UserFacingError(`${req.script} is outside the workspace folder ${req.workspaceRoot}; runs can only use files in the workspace.`);
    }
    if (path.extname(req.script).toLowerCase() !== '.py') {
      throw new UserFacingError(`Run as Experiment works on Python scripts (.py); ${path.basename(req.script)} is not one.`);
    }
    if (!fs.existsSync(req.script)) throw new UserFacingError(`${req.script} does not exist.`);
    return rel.split(path.sep).join('/');
  }

  /** GPUs only when asked for, and only if the engine can provide them: never added silently. */
  private async checkGpus(options: RunOptions): Promise<void> {
    const gpus = options.resources?.gpus;
    if (!gpus) return;
    const info = (await this.docker.info()) as { Runtimes?: Record<string, unknown> };
    if (!info.Runtimes || !('nvidia' in info.Runtimes)) {
      throw new UserFacingError(
        `resources.gpus is set${options.configName ? ` in run configuration "${options.configName}"` : ''}, but this Docker engine has no GPU runtime (no "nvidia" runtime in docker info). ` +
          'Install the NVIDIA Container Toolkit on the Docker host, or remove resources.gpus to run on CPU.',
      );
    }
  }

  private async resolveEnvironment(record: RunRecord, req: RunRequest, scriptDir: string, listener: RunListener): Promise<string> {
    const paths = this.store.paths(record.id);
    let buildLog: fs.WriteStream | undefined;
    try {
      const environment = await this.environments.resolve({
        baseImage: req.baseImage,
        image: req.options?.image,
        root: paths.snapshot,
        workspaceRoot: req.workspaceRoot,
        scriptDir,
        contextDir: paths.environment,
        onBuildOutput: (text) => {
          buildLog ??= fs.createWriteStream(paths.buildLog, { flags: 'a' });
          buildLog.write(text);
          listener.onBuildOutput?.(record.id, text);
        },
      });
      await this.store.update(record.id, { environment, imageId: environment.imageId });
      return environment.imageId;
    } finally {
      if (buildLog) await new Promise((resolve) => buildLog!.end(resolve));
    }
  }

  private register(id: string, state: RunState, done: Promise<RunRecord>): RunHandle {
    const handle: RunHandle = {
      id,
      done: done.finally(() => this.active.delete(id)),
      cancel: async () => {
        state.canceled = true;
        state.signalCancel();
        if (this.queue.withdraw(id)) return;
        if (state.container) {
          await state.container.stop({ t: 5 }).catch((err) => {
            // 304: already stopped; 404: already gone. Both mean there is nothing left to stop.
            if (!isNotFound(err) && (err as { statusCode?: number }).statusCode !== 304) throw err;
          });
        }
      },
    };
    this.active.set(id, handle);
    return handle;
  }

  /** Prepares (snapshot, image) then waits for a queue slot and runs; everything after submit's checks. */
  private launch(record: RunRecord, listener: RunListener, prepare: () => Promise<string>): RunHandle {
    const state = newRunState();
    const paths = this.store.paths(record.id);
    let release: (() => void) | undefined;
    const run = async (): Promise<RunRecord> => {
      const canceledElsewhere = async () => state.canceled || !!(await this.store.get(record.id))?.cancelRequested;
      const imageId = await prepare();
      const hash = await hashSnapshot(paths.snapshot);
      await this.store.update(record.id, { snapshot: { ...(record.snapshot ?? { files: 0, bytes: 0 }), hash } });
      if (await canceledElsewhere()) return this.finish(record.id, { status: 'Canceled', reason: 'Canceled by user before it started.' }, listener);
      const granted = await Promise.race([this.queue.acquire(record.id), state.canceledSignal.then(() => undefined)]);
      if (!granted) return this.finish(record.id, { status: 'Canceled', reason: 'Canceled by user while queued.' }, listener);
      release = granted;
      const container = await this.createContainer(record, imageId);
      state.container = container;
      await this.store.update(record.id, { containerId: container.id });
      if (await canceledElsewhere()) {
        await container.remove({ force: true }).catch(() => undefined);
        return this.finish(record.id, { status: 'Canceled', reason: 'Canceled by user before it started.' }, listener);
      }
      await container.start();
      // Not `onStatus?.(await update())`: an absent listener would skip the update itself.
      const running = await this.store.update(record.id, { status: 'Running', startedAt: new Date().toISOString() });
      listener.onStatus?.(running);
      return this.follow(record.id, container, state, listener);
    };
    const done = run()
      .catch((err: Error) => this.failed(record.id, err, listener))
      .finally(() => release?.());
    return this.register(record.id, state, done);
  }

  private async failed(id: string, err: Error, listener: RunListener): Promise<RunRecord> {
    let reason: string;
    if (err instanceof ImageBuildError) {
      reason = `Image build failed: ${err.message} (build log: ${path.relative(this.store.workspaceRoot, this.store.paths(id).buildLog)})`;
    } else if (err instanceof UserFacingError) {
      reason = err.message;
    } else if (err instanceof DockerGoneError || isConnectionError(err)) {
      const container = (await this.store.get(id).catch(() => undefined))?.containerId?.slice(0, 12);
      reason = `Docker went away while the run was going (${err.message}); its outcome is unknown.${container ? ` If the container survived, "docker logs ${container}" shows the rest of its output.` : ''}`;
    } else {
      reason = `Internal error: ${err.message}`;
    }
    return this.finish(id, { status: 'Failed', reason }, listener);
  }

  private async createContainer(record: RunRecord, imageId: string): Promise<Docker.Container> {
    const paths = this.store.paths(record.id);
    const options = record.options ?? {};
    const scriptDir = path.posix.dirname(record.script) === '.' ? '' : path.posix.dirname(record.script);
    // The outputs folder is mounted over the read-only snapshot: mount points must exist in the snapshot.
    const outputMounts = [`${CONTAINER_WORKSPACE}/outputs`];
    await fs.promises.mkdir(path.join(paths.snapshot, 'outputs'), { recursive: true });
    if (scriptDir) {
      // Scripts in subfolders that write to ./outputs land in the same outputs folder.
      outputMounts.push(`${CONTAINER_WORKSPACE}/${scriptDir}/outputs`);
      await fs.promises.mkdir(path.join(paths.snapshot, scriptDir, 'outputs'), { recursive: true });
    }
    await fs.promises.mkdir(paths.tracking, { recursive: true });
    const user = containerUser();
    if (process.getuid?.() === 0) {
      await fs.promises.chown(paths.outputs, user.uid, user.gid);
      await fs.promises.chown(paths.tracking, user.uid, user.gid);
    }
    const userEnv = Object.entries(options.env ?? {}).filter(([k]) => !k.startsWith('MLW_'));
    const pythonPath = options.env?.PYTHONPATH ? `${CONTAINER_HELPER}:${options.env.PYTHONPATH}` : CONTAINER_HELPER;
    const { cpus, memoryBytes, gpus } = options.resources ?? {};
    return this.docker.createContainer({
      Image: imageId,
      Cmd: ['python', '-u', path.posix.basename(record.script), ...record.args],
      WorkingDir: scriptDir ? `${CONTAINER_WORKSPACE}/${scriptDir}` : CONTAINER_WORKSPACE,
      User: `${user.uid}:${user.gid}`,
      Env: [
        ...userEnv.filter(([k]) => k !== 'PYTHONPATH').map(([k, v]) => `${k}=${v}`),
        'PYTHONUNBUFFERED=1',
        'PYTHONDONTWRITEBYTECODE=1',
        'HOME=/tmp',
        `PYTHONPATH=${pythonPath}`,
        `MLW_RUN_ID=${record.id}`,
        `MLW_OUTPUTS=${CONTAINER_WORKSPACE}/outputs`,
        `MLW_TRACKING_DIR=${CONTAINER_TRACKING}`,
      ],
      Labels: { [RUN_ID_LABEL]: record.id, [WORKSPACE_LABEL]: this.store.workspaceRoot },
      Tty: false,
      // Detached: logs are read from the log driver, never through an attach that could hold up start.
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      HostConfig: {
        Init: true,
        NetworkMode: options.network ?? 'bridge',
        ...(cpus ? { NanoCpus: Math.round(cpus * 1e9) } : {}),
        // Swap equal to memory: the limit is a real limit, so exceeding it is an OOM kill, not slow paging.
        ...(memoryBytes ? { Memory: memoryBytes, MemorySwap: memoryBytes } : {}),
        ...(gpus ? { DeviceRequests: [{ Driver: 'nvidia', Count: gpus === 'all' ? -1 : gpus, Capabilities: [['gpu']] }] } : {}),
        Mounts: [
          { Type: 'bind', Source: paths.snapshot, Target: CONTAINER_WORKSPACE, ReadOnly: true },
          ...outputMounts.map((Target) => ({ Type: 'bind' as const, Source: paths.outputs, Target, ReadOnly: false })),
          { Type: 'bind', Source: this.helperDir, Target: CONTAINER_HELPER, ReadOnly: true },
          { Type: 'bind', Source: paths.tracking, Target: CONTAINER_TRACKING, ReadOnly: false },
        ],
      },
    });
  }

  /**
   * Streams a container's logs into logs.txt (skipping the bytes already there, so reattaching never
   * duplicates a line), enforces the timeout, waits for the exit and finalizes the record.
   */
  private async follow(id: string, container: Docker.Container, state: RunState, listener: RunListener): Promise<RunRecord> {
    const run = (await this.store.get(id))!;
    const timeout = run.options?.timeoutSeconds;
    let timer: NodeJS.Timeout | undefined;
    if (timeout) {
      const started = run.startedAt ? Date.parse(run.startedAt) : Date.now();
      timer = setTimeout(() => {
        state.timedOut = true;
        void container.stop({ t: 5 }).catch(() => undefined);
      }, Math.max(0, started + timeout * 1000 - Date.now()));
    }
    try {
      const logsEnded = this.streamLogs(id, container, true, listener);
      // Observed now, awaited below: a stream that fails early must not surface as an unhandled rejection.
      logsEnded.catch(() => undefined);
      const exit = await this.waitForExit(container);
      await logsEnded;
      const info = await container.inspect().catch(() => undefined);
      await container.remove({ force: true }).catch(() => undefined);
      const code = exit.StatusCode;
      const latest = await this.store.get(id);
      if (state.canceled || latest?.cancelRequested) {
        return this.finish(id, { status: 'Canceled', exitCode: code, reason: 'Canceled by user.' }, listener);
      }
      if (state.timedOut) {
        const where = run.options?.configName ? ` (timeout in run configuration "${run.options.configName}")` : '';
        return this.finish(id, { status: 'Failed', exitCode: code, reason: `Timed out after ${formatSeconds(timeout!)}${where}; the container was stopped.` }, listener);
      }
      if (code === 0) return this.finish(id, { status: 'Completed', exitCode: 0 }, listener);
      return this.finish(id, { status: 'Failed', exitCode: code, reason: describeExit(code, !!info?.State?.OOMKilled) }, listener);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Waits for the container to exit, pinging the engine meanwhile: when the engine (or the connection to
   * it) dies, a pending wait request can hang forever instead of failing, so the heartbeat is what notices.
   */
  private waitForExit(container: Docker.Container): Promise<{ StatusCode: number }> {
    const waited = container.wait() as Promise<{ StatusCode: number }>;
    return new Promise((resolve, reject) => {
      const heartbeat = setInterval(() => {
        ensureDockerReachable(this.docker, 3000).catch((err: Error) => {
          clearInterval(heartbeat);
          reject(new DockerGoneError(err.message.replace(/\. Start Docker.*$/s, '')));
        });
      }, HEARTBEAT_MS);
      waited.then(
        (exit) => {
          clearInterval(heartbeat);
          resolve(exit);
        },
        (err: Error) => {
          clearInterval(heartbeat);
          reject(isConnectionError(err) ? new DockerGoneError(err.message) : err);
        },
      );
    });
  }

  /** Appends the container's logs after the bytes logs.txt already holds; follows when asked to. */
  private async streamLogs(id: string, container: Docker.Container, followLogs: boolean, listener: RunListener): Promise<void> {
    const file = this.store.paths(id).logs;
    let skip = await fs.promises.stat(file).then((s) => s.size, () => 0);
    const out = fs.createWriteStream(file, { flags: 'a' });
    const demux = new DockerLogDemuxer((stream, payload) => {
      if (skip >= payload.length) {
        skip -= payload.length;
        return;
      }
      const fresh = skip ? payload.subarray(skip) : payload;
      skip = 0;
      out.write(fresh);
      listener.onOutput?.(id, stream, fresh);
    });
    try {
      if (followLogs) {
        const stream = (await container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
        await new Promise<void>((resolve, reject) => {
          stream.on('data', (chunk: Buffer) => demux.push(chunk));
          stream.on('end', resolve);
          // A connection cut mid-stream may only 'close'; the exit wait's heartbeat reports why.
          stream.on('close', resolve);
          stream.on('error', reject);
        });
      } else {
        demux.push((await container.logs({ follow: false, stdout: true, stderr: true })) as unknown as Buffer);
      }
    } finally {
      await new Promise((resolve) => out.end(resolve));
    }
  }

  private async finish(id: string, patch: Partial<RunRecord>, listener: RunListener): Promise<RunRecord> {
    const paths = this.store.paths(id);
    const tracking = await readRunTracking(paths.tracking, paths.outputs).catch(() => undefined);
    const final = await this.store.update(id, { ...patch, ...(tracking ?? {}), endedAt: new Date().toISOString() });
    listener.onStatus?.(final);
    return final;
  }
}
