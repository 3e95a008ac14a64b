import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { UserFacingError } from '../model/errors';
import { RUN_SCHEMA_VERSION, RunRecord, newRunId } from '../model/run';
import { RunStore } from '../model/runStore';
import { ensureDockerReachable, inspectImage, isNotFound } from './docker';
import { DockerLogDemuxer, LogStreamName } from './dockerLogDemux';
import { EnvironmentResolver, ImageBuildError, baseImageMissing } from './environment';
import { readGitLineage } from './gitLineage';
import { copySnapshot, planSnapshot } from './snapshot';

export const RUN_ID_LABEL = 'mlw.run-id';
export const WORKSPACE_LABEL = 'mlw.workspace';
const CONTAINER_WORKSPACE = '/workspace';

export interface RunRequest {
  workspaceRoot: string;
  /** Absolute path of the Python script. */
  script: string;
  args: string[];
  baseImage: string;
  snapshotMaxBytes: number;
}

/** Where a run's live output goes (an output channel, a terminal); logs.txt is written by the runner itself. */
export interface RunListener {
  onBuildOutput?(runId: string, text: string): void;
  onOutput?(runId: string, stream: LogStreamName, chunk: Buffer): void;
  onStatus?(run: RunRecord): void;
}

export interface RunHandle {
  readonly id: string;
  /** Resolves with the final record once the run is Completed, Failed or Canceled. Never rejects. */
  readonly done: Promise<RunRecord>;
  cancel(): Promise<void>;
}

/** Exit codes 128+N mean the process died of signal N. */
function describeExit(code: number, oomKilled: boolean): string {
  if (oomKilled) return `Out of memory (exit code ${code}): the container was killed by the kernel's OOM killer.`;
  if (code === 137) return 'Killed (SIGKILL, exit code 137).';
  if (code > 128 && code < 160) return `Terminated by signal ${code - 128} (exit code ${code}).`;
  return `Script exited with code ${code}.`;
}

/** The uid:gid a run's process uses: never root; the caller's own ids when they are not root. */
function containerUser(): { uid: number; gid: number } {
  const uid = process.getuid?.() ?? 1000;
  const gid = process.getgid?.() ?? 1000;
  return uid === 0 ? { uid: 1000, gid: 1000 } : { uid, gid };
}

/**
 * Runs a Python script as an experiment: snapshot → environment image → detached container → logs and
 * status recorded in the RunStore. No vscode import: the extension and the CLI share it.
 */
export class ExperimentRunner {
  readonly environments: EnvironmentResolver;
  private readonly active = new Map<string, RunHandle>();

  constructor(
    readonly docker: Docker,
    readonly store: RunStore,
  ) {
    this.environments = new EnvironmentResolver(docker);
  }

  get activeRuns(): RunHandle[] {
    return [...this.active.values()];
  }

  /**
   * Checks everything that can be checked before a run exists (script, Docker, base image, snapshot size),
   * throwing UserFacingError with the fix; then records a Queued run, copies the snapshot and starts it in
   * the background. The returned handle's `done` settles when the run ends.
   */
  async submit(req: RunRequest, listener: RunListener = {}): Promise<RunHandle> {
    const scriptRel = this.validateScript(req);
    if (!req.baseImage.trim()) {
      throw new UserFacingError('No base image is set. Set mlw.baseImage (for example python:3.12-slim) and try again.');
    }
    await ensureDockerReachable(this.docker);
    if (!(await inspectImage(this.docker, req.baseImage))) throw baseImageMissing(req.baseImage);
    const plan = await planSnapshot(req.workspaceRoot, req.snapshotMaxBytes);
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
      git: await readGitLineage(req.workspaceRoot),
      snapshot: { files: plan.files, bytes: plan.bytes },
    };
    await this.store.create(record);
    listener.onStatus?.(record);

    const state = { canceled: false, container: undefined as Docker.Container | undefined };
    const handle: RunHandle = {
      id: record.id,
      done: undefined as unknown as Promise<RunRecord>,
      cancel: async () => {
        state.canceled = true;
        if (state.container) {
          await state.container.stop({ t: 5 }).catch((err) => {
            // 304: already stopped; 404: already gone. Both mean there is nothing left to stop.
            if (!isNotFound(err) && (err as { statusCode?: number }).statusCode !== 304) throw err;
          });
        }
      },
    };
    (handle as { done: Promise<RunRecord> }).done = this.execute(record, req, plan, state, listener)
      .catch(async (err: Error) => {
        const reason = err instanceof ImageBuildError
          ? `Image build failed: ${err.message} (build log: ${path.relative(req.workspaceRoot, this.store.paths(record.id).buildLog)})`
          : `Internal error: ${err.message}`;
        return this.finish(record.id, { status: 'Failed', reason }, listener);
      })
      .finally(() => this.active.delete(record.id));
    this.active.set(record.id, handle);
    return handle;
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

  private async execute(
    record: RunRecord,
    req: RunRequest,
    plan: Awaited<ReturnType<typeof planSnapshot>>,
    state: { canceled: boolean; container?: Docker.Container },
    listener: RunListener,
  ): Promise<RunRecord> {
    const paths = this.store.paths(record.id);
    await copySnapshot(plan, paths.snapshot);

    const scriptDir = path.posix.dirname(record.script) === '.' ? '' : path.posix.dirname(record.script);
    const buildLog = fs.createWriteStream(paths.buildLog, { flags: 'a' });
    let environment;
    try {
      environment = await this.environments.resolve({
        baseImage: req.baseImage,
        root: paths.snapshot,
        scriptDir,
        contextDir: paths.environment,
        onBuildOutput: (text) => {
          buildLog.write(text);
          listener.onBuildOutput?.(record.id, text);
        },
      });
    } finally {
      await new Promise((resolve) => buildLog.end(resolve));
    }
    await this.store.update(record.id, { environment, imageId: environment.imageId });
    if (state.canceled) return this.finish(record.id, { status: 'Canceled', reason: 'Canceled by user before it started.' }, listener);

    // The outputs folder is mounted over the read-only snapshot: mount points must exist in the snapshot.
    const outputMounts = [CONTAINER_WORKSPACE + '/outputs'];
    await fs.promises.mkdir(path.join(paths.snapshot, 'outputs'), { recursive: true });
    if (scriptDir) {
      // Scripts in subfolders that write to ./outputs land in the same outputs folder.
      outputMounts.push(`${CONTAINER_WORKSPACE}/${scriptDir}/outputs`);
      await fs.promises.mkdir(path.join(paths.snapshot, scriptDir, 'outputs'), { recursive: true });
    }
    const user = containerUser();
    if (process.getuid?.() === 0) await fs.promises.chown(paths.outputs, user.uid, user.gid);

    const container = await this.docker.createContainer({
      Image: environment.imageId,
      Cmd: ['python', '-u', path.posix.basename(record.script), ...record.args],
      WorkingDir: scriptDir ? `${CONTAINER_WORKSPACE}/${scriptDir}` : CONTAINER_WORKSPACE,
      User: `${user.uid}:${user.gid}`,
      Env: [
        'PYTHONUNBUFFERED=1',
        'PYTHONDONTWRITEBYTECODE=1',
        'HOME=/tmp',
        `MLW_RUN_ID=${record.id}`,
        `MLW_OUTPUTS=${CONTAINER_WORKSPACE}/outputs`,
      ],
      Labels: { [RUN_ID_LABEL]: record.id, [WORKSPACE_LABEL]: req.workspaceRoot },
      Tty: false,
      AttachStdout: false,
      AttachStderr: false,
      HostConfig: {
        Init: true,
        Mounts: [
          { Type: 'bind', Source: paths.snapshot, Target: CONTAINER_WORKSPACE, ReadOnly: true },
          ...outputMounts.map((Target) => ({ Type: 'bind' as const, Source: paths.outputs, Target, ReadOnly: false })),
        ],
      },
    });
    state.container = container;
    await this.store.update(record.id, { containerId: container.id });
    if (state.canceled) {
      await container.remove({ force: true }).catch(() => undefined);
      return this.finish(record.id, { status: 'Canceled', reason: 'Canceled by user before it started.' }, listener);
    }

    await container.start();
    const running = await this.store.update(record.id, { status: 'Running', startedAt: new Date().toISOString() });
    listener.onStatus?.(running);

    const logFile = fs.createWriteStream(paths.logs, { flags: 'a' });
    const logStream = (await container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    const demux = new DockerLogDemuxer((stream, payload) => {
      logFile.write(payload);
      listener.onOutput?.(record.id, stream, payload);
    });
    const logsEnded = new Promise<void>((resolve, reject) => {
      logStream.on('data', (chunk: Buffer) => demux.push(chunk));
      logStream.on('end', resolve);
      logStream.on('error', reject);
    });

    const exit = (await container.wait()) as { StatusCode: number };
    await logsEnded;
    await new Promise((resolve) => logFile.end(resolve));
    const info = await container.inspect().catch(() => undefined);
    await container.remove({ force: true }).catch(() => undefined);

    const code = exit.StatusCode;
    if (state.canceled) {
      return this.finish(record.id, { status: 'Canceled', exitCode: code, reason: 'Canceled by user.' }, listener);
    }
    if (code === 0) return this.finish(record.id, { status: 'Completed', exitCode: 0 }, listener);
    return this.finish(record.id, { status: 'Failed', exitCode: code, reason: describeExit(code, !!info?.State?.OOMKilled) }, listener);
  }

  private async finish(id: string, patch: Partial<RunRecord>, listener: RunListener): Promise<RunRecord> {
    const final = await this.store.update(id, { ...patch, endedAt: new Date().toISOString() });
    listener.onStatus?.(final);
    return final;
  }
}
