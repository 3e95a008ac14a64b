import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { UserFacingError } from '../../../model/common/errors';
import { RunEnvironment, RunOptions, RunRecord } from '../../../model/runs/run';
import { DEFAULT_DOCKER_HOST, RUN_ID_LABEL, WORKSPACE_LABEL, describeDockerHost, ensureDockerReachable, inspectImage } from '../../docker/client';
import { EnvironmentResolver, baseImageMissing, detectEnvironment, imageMissing, needsBaseImage } from '../../docker/environment';
import { ComputeTarget, ExecutionSpec, FoundExecution, PrepareRequest, PreflightCheck, TargetGoneError } from '../computeTarget';
import { CONTAINER_HELPER, CONTAINER_OUTPUTS, CONTAINER_TRACKING, CONTAINER_WORKSPACE } from './containerPaths';
import { EngineStoppedError, LocalDockerExecution, isConnectionError } from './localDockerExecution';


/** The uid:gid a run's process uses: never root; the caller's own ids when they are not root. */
function containerUser(): { uid: number; gid: number } {
  const uid = process.getuid?.() ?? 1000;
  const gid = process.getgid?.() ?? 1000;
  return uid === 0 ? { uid: 1000, gid: 1000 } : { uid, gid };
}

export interface LocalDockerOptions {
  /** Folder holding the `mlw` Python package (mounted read-only into every run). */
  helperDir: string;
}

/**
 * Runs in detached, labelled containers of a Docker engine that shares this machine's files: the snapshot,
 * the outputs and tracking folders and the `mlw` helper are bind mounts, so collecting is a no-op when the
 * lifecycle collects into the folders given at create.
 */
export class LocalDockerTarget implements ComputeTarget {
  readonly environments: EnvironmentResolver;

  constructor(
    readonly docker: Docker,
    private readonly options: LocalDockerOptions,
  ) {
    this.environments = new EnvironmentResolver(docker);
  }

  async preflight(check: PreflightCheck): Promise<void> {
    const { options } = check;
    await ensureDockerReachable(this.docker);
    const kind = detectEnvironment(check.workspaceRoot, check.workspaceRoot, check.scriptDir, options.image).kind;
    if (kind === 'image' && !(await inspectImage(this.docker, options.image!))) {
      throw imageMissing(options.image!, `"image" in run configuration ${options.configName ?? ''}`.trim());
    }
    if (needsBaseImage(kind)) {
      if (!check.baseImage.trim()) throw new UserFacingError('No base image is set. Set mlw.baseImage (for example python:3.12-slim) and try again.');
      if (!(await inspectImage(this.docker, check.baseImage))) throw baseImageMissing(check.baseImage);
    }
    await this.checkGpus(options);
  }

  async preflightRerun(parent: RunRecord): Promise<void> {
    await ensureDockerReachable(this.docker);
    if (!(await inspectImage(this.docker, parent.imageId!))) {
      throw new UserFacingError(
        `The image of run ${parent.id} (${parent.imageId!.slice(0, 19)}) is no longer in the Docker engine, so it cannot be rerun exactly. Run the script again to rebuild its environment.`,
      );
    }
    await this.checkGpus(parent.options ?? {});
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

  prepare(req: PrepareRequest): Promise<RunEnvironment> {
    return this.environments.resolve({
      baseImage: req.baseImage,
      image: req.options.image,
      root: req.snapshotDir,
      workspaceRoot: req.workspaceRoot,
      scriptDir: req.scriptDir,
      contextDir: req.contextDir,
      onBuildOutput: req.onBuildOutput,
    });
  }

  async create(spec: ExecutionSpec): Promise<LocalDockerExecution> {
    const { run, snapshotDir, outputsDir, trackingDir } = spec;
    const options = run.options ?? {};
    const scriptDir = path.posix.dirname(run.script) === '.' ? '' : path.posix.dirname(run.script);
    // The outputs folder is mounted over the read-only snapshot: mount points must exist in the snapshot.
    const outputMounts = [CONTAINER_OUTPUTS];
    await fs.promises.mkdir(path.join(snapshotDir, 'outputs'), { recursive: true });
    if (scriptDir) {
      // Scripts in subfolders that write to ./outputs land in the same outputs folder.
      outputMounts.push(`${CONTAINER_WORKSPACE}/${scriptDir}/outputs`);
      await fs.promises.mkdir(path.join(snapshotDir, scriptDir, 'outputs'), { recursive: true });
    }
    await fs.promises.mkdir(outputsDir, { recursive: true });
    await fs.promises.mkdir(trackingDir, { recursive: true });
    const user = containerUser();
    if (process.getuid?.() === 0) {
      await fs.promises.chown(outputsDir, user.uid, user.gid);
      await fs.promises.chown(trackingDir, user.uid, user.gid);
    }
    const userEnv = Object.entries(options.env ?? {}).filter(([k]) => !k.startsWith('MLW_'));
    const pythonPath = options.env?.PYTHONPATH ? `${CONTAINER_HELPER}:${options.env.PYTHONPATH}` : CONTAINER_HELPER;
    const { cpus, memoryBytes, gpus } = options.resources ?? {};
    const container = await this.docker.createContainer({
      Image: spec.imageId,
      Cmd: ['python', '-u', path.posix.basename(run.script), ...run.args],
      WorkingDir: scriptDir ? `${CONTAINER_WORKSPACE}/${scriptDir}` : CONTAINER_WORKSPACE,
      User: `${user.uid}:${user.gid}`,
      Env: [
        ...userEnv.filter(([k]) => k !== 'PYTHONPATH').map(([k, v]) => `${k}=${v}`),
        'PYTHONUNBUFFERED=1',
        'PYTHONDONTWRITEBYTECODE=1',
        'HOME=/tmp',
        `PYTHONPATH=${pythonPath}`,
        `MLW_RUN_ID=${run.id}`,
        `MLW_OUTPUTS=${CONTAINER_OUTPUTS}`,
        `MLW_TRACKING_DIR=${CONTAINER_TRACKING}`,
      ],
      Labels: { [RUN_ID_LABEL]: run.id, [WORKSPACE_LABEL]: spec.workspaceRoot },
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
          { Type: 'bind', Source: snapshotDir, Target: CONTAINER_WORKSPACE, ReadOnly: true },
          ...outputMounts.map((Target) => ({ Type: 'bind' as const, Source: outputsDir, Target, ReadOnly: false })),
          { Type: 'bind', Source: this.options.helperDir, Target: CONTAINER_HELPER, ReadOnly: true },
          { Type: 'bind', Source: trackingDir, Target: CONTAINER_TRACKING, ReadOnly: false },
        ],
      },
    });
    return new LocalDockerExecution(this.docker, container, { outputs: outputsDir, tracking: trackingDir });
  }

  async findByRunId(runId: string): Promise<FoundExecution[]> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${runId}`] } });
    return containers.map((info) => ({
      execution: new LocalDockerExecution(this.docker, this.docker.getContainer(info.Id)),
      state: info.State === 'running' ? 'running' : info.State === 'created' ? 'created' : 'stopped',
    }));
  }

  describeFailure(err: Error, run: RunRecord | undefined): string | undefined {
    if (!(err instanceof TargetGoneError) && !isConnectionError(err)) return undefined;
    const container = run?.containerId?.slice(0, 12);
    const host = describeDockerHost(this.docker);
    // The hint must reach the engine the run used, which is not the docker CLI's default under --docker-host.
    const logs = container ? ` If the container survived, "docker ${host === DEFAULT_DOCKER_HOST ? '' : `-H ${host} `}logs ${container}" shows its output.` : '';
    const what = err instanceof EngineStoppedError ? `The Docker engine was shut down while the run was going (${err.message})` : `Docker went away while the run was going (${err.message})`;
    // Only a follow can be resumed; a create or start cut short is over.
    const next = err instanceof TargetGoneError
      ? '; its outcome is unknown until Docker is back: then the next "mlw runs list" or ML Workbench window reattaches the run and records how it ended.'
      : '; its outcome is unknown.';
    return `${what}${next}${logs}`;
  }
}

