import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { UserFacingError } from '../../../model/common/errors';
import { RunEnvironment, RunOptions, RunRecord } from '../../../model/runs/run';
import { DEFAULT_DOCKER_HOST, RUN_ID_LABEL, WORKSPACE_LABEL, describeDockerHost, ensureDockerReachable, inspectImage } from '../../docker/client';
import { EnvironmentResolver, baseImageMissing, detectEnvironment, imageMissing, needsBaseImage } from '../../docker/environment';
import { describeEngineError } from '../../docker/engineErrors';
import { ComputeTarget, ExecutionSpec, FoundExecution, PrepareRequest, PreflightCheck, TargetGoneError } from '../computeTarget';
import { CONTAINER_HELPER, CONTAINER_OUTPUTS, CONTAINER_TRACKING, CONTAINER_WORKSPACE } from './containerPaths';
import { EngineStoppedError, LocalDockerExecution, isConnectionError } from './localDockerExecution';
import { containerUser, handFoldersToRun, reclaimFolder, runFolderOf } from './runUser';

/**
 * A run container whose writable folders go back to the invoking account, stripped of set-id bits, once it has
 * ended: collecting is the moment the host takes what the run wrote (runUser.ts says why this holds).
 */
class ContainedExecution extends LocalDockerExecution {
  constructor(docker: Docker, container: Docker.Container, private readonly created?: { outputs: string; tracking: string }) {
    super(docker, container, created);
  }

  override async collectOutputs(destDir: string): Promise<void> {
    await super.collectOutputs(destDir);
    await reclaimFolder(destDir, runFolderOf(destDir, this.created?.tracking ?? path.join(path.dirname(destDir), 'tracking')));
  }

  override async collectTracking(destDir: string): Promise<void> {
    await super.collectTracking(destDir);
    await reclaimFolder(destDir, undefined);
  }

  /** A run that could not start gives its folders back at once: nothing may collect them later. */
  override async start(): Promise<void> {
    await super.start().catch(async (err: Error) => {
      await this.giveBack();
      throw err;
    });
  }

  /** Also a run canceled before it started gives its folders back. */
  override async remove(): Promise<void> {
    await super.remove();
    await this.giveBack();
  }

  private async giveBack(): Promise<void> {
    if (!this.created) return;
    await giveFoldersBack(this.created.outputs, this.created.tracking);
  }
}

async function giveFoldersBack(outputs: string, tracking: string): Promise<void> {
  await reclaimFolder(outputs, runFolderOf(outputs, tracking));
  await reclaimFolder(tracking, undefined);
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
    await handFoldersToRun([outputsDir, trackingDir], runFolderOf(outputsDir, trackingDir), user);
    const userEnv = Object.entries(options.env ?? {}).filter(([k]) => !k.startsWith('MLW_'));
    const pythonPath = options.env?.PYTHONPATH ? `${CONTAINER_HELPER}:${options.env.PYTHONPATH}` : CONTAINER_HELPER;
    const { cpus, gpus } = options.resources ?? {};
    const { memoryBytes, pids } = spec.limits;
    const container = await this.createContainer(() => giveFoldersBack(outputsDir, trackingDir), {
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
        // No privilege to gain or hold: a setuid binary in the image stays the run's uid, and no capability
        // (mknod, chown, fowner, fsetid, setuid…) is left, so nothing it writes can be root's or a device.
        SecurityOpt: ['no-new-privileges:true'],
        CapDrop: ['ALL'],
        PidsLimit: pids,
        // Nothing of a run may fill the host's disk unbounded. Its image's file system is read-only (the code
        // is a read-only snapshot already; outputs and tracking are capped mounts); scratch space is a tmpfs,
        // whose pages count against the run's memory limit; and the engine keeps at most twice the log cap of
        // its output, so a run nobody follows (editor closed, CLI killed) cannot grow its Docker log either.
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': scratchOptions(memoryBytes), '/var/tmp': scratchOptions(memoryBytes) },
        LogConfig: { Type: 'json-file', Config: { 'max-size': String(2 * spec.limits.logsBytes), 'max-file': '1' } },
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
    return new ContainedExecution(this.docker, container, { outputs: outputsDir, tracking: trackingDir });
  }

  /** A container the engine refused to create leaves no folder handed to its run. */
  private async createContainer(giveBack: () => Promise<void>, options: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    try {
      return await this.docker.createContainer(options);
    } catch (err) {
      await giveBack();
      throw err;
    }
  }

  async findByRunId(runId: string): Promise<FoundExecution[]> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${runId}`] } });
    return containers.map((info) => ({
      execution: new ContainedExecution(this.docker, this.docker.getContainer(info.Id)),
      state: info.State === 'running' ? 'running' : info.State === 'created' ? 'created' : 'stopped',
    }));
  }

  async findStopped(workspaceRoot: string): Promise<Array<{ runId: string; execution: ContainedExecution }>> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${WORKSPACE_LABEL}=${workspaceRoot}`], status: ['exited', 'created', 'dead'] },
    });
    return containers
      .filter((info) => info.Labels?.[RUN_ID_LABEL])
      .map((info) => ({ runId: info.Labels[RUN_ID_LABEL], execution: new ContainedExecution(this.docker, this.docker.getContainer(info.Id)) }));
  }

  async releaseFolders(folders: { outputsDir: string; trackingDir: string }): Promise<void> {
    await giveFoldersBack(folders.outputsDir, folders.trackingDir);
  }

  /** Undefined on an engine that cannot limit memory (no memory cgroup): a default there would only fail runs. */
  async memoryCapacity(): Promise<number | undefined> {
    const info = (await this.docker.info()) as { MemTotal?: number; MemoryLimit?: boolean };
    return info.MemoryLimit === false ? undefined : info.MemTotal || undefined;
  }

  describeFailure(err: Error, run: RunRecord | undefined): string | undefined {
    // Not gone: a refusal of the engine (a limit it cannot apply), said in the run configuration's terms.
    if (!(err instanceof TargetGoneError) && !isConnectionError(err)) return describeEngineError(err, run);
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

/** Scratch folders: writable and executable (build caches, compilers), no set-id or device files, sized like the memory limit that bounds them anyway. */
function scratchOptions(memoryBytes: number | undefined): string {
  return `rw,exec,nosuid,nodev,size=${memoryBytes ?? DEFAULT_SCRATCH_BYTES}`;
}

const DEFAULT_SCRATCH_BYTES = 1024 ** 3;
