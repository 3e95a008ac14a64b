import * as fs from 'node:fs';
import * as path from 'node:path';
import { isInsideFolder } from '../../model/common/containment';
import { UserFacingError } from '../../model/common/errors';
import { RUN_SCHEMA_VERSION, RunOptions, RunRecord, isTerminal, newRunId } from '../../model/runs/run';
import { RunStore } from '../../model/runs/runStore';
import { readGitState } from '../gitLineage';
import { describeDropped, keepOnlySafeOutputs } from '../outputsSanitizer';
import { RunQueue } from '../runQueue';
import { readRunTracking } from '../runTracking';
import { copySnapshot, hashSnapshot, planSnapshot } from '../snapshot';
import { ComputeTarget, Execution, ExitStatus, ImageBuildError, LogStreamName, TargetGoneError } from '../targets/computeTarget';
import { describeFailedExit, formatSeconds } from './reasons';
import { CapWatch, LogCap, exceededCap, resolveRunLimits } from './runLimits';
import { currentOwner, ownedByOtherLiveProcess, ownerAlive } from './runOwner';

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
  /**
   * Resolves with the final record once the run is Completed, Failed, Canceled or Lost; or, when the engine
   * went away mid-run, with the record left Running (engineLostAt) for a later reattach. Never rejects.
   */
  readonly done: Promise<RunRecord>;
  /** Stops the run (see Execution.cancel; `now` kills it without the grace period); it ends Canceled. */
  cancel(options?: { now?: boolean }): Promise<void>;
}

export interface LifecycleOptions {
  /** Shared across runners of one process to cap concurrent runs (mlw.maxConcurrentRuns). */
  queue?: RunQueue;
}

interface RunState {
  canceled: boolean;
  timedOut: boolean;
  execution?: Execution;
  /** Resolves when the user cancels; lets a queued run stop waiting for a slot. */
  canceledSignal: Promise<void>;
  signalCancel: () => void;
}

function newRunState(execution?: Execution): RunState {
  let signalCancel: () => void = () => undefined;
  const canceledSignal = new Promise<void>((resolve) => (signalCancel = resolve));
  return { canceled: false, timedOut: false, execution, canceledSignal, signalCancel };
}

/** A run past a cap gets no grace period to write more. */
async function stopNow(execution: Execution): Promise<void> {
  await execution.cancel({ now: true }).catch(() => undefined);
}

/** A run's start and end by the engine's clock, when it knows them (see ExitStatus). */
function engineTimes(exit: ExitStatus): Pick<RunRecord, 'startedAt' | 'endedAt'> {
  return { ...(exit.startedAt ? { startedAt: exit.startedAt } : {}), ...(exit.finishedAt ? { endedAt: exit.finishedAt } : {}) };
}

function scriptDirOf(scriptRel: string): string {
  return path.posix.dirname(scriptRel) === '.' ? '' : path.posix.dirname(scriptRel);
}

/**
 * A run's life whatever executes it: snapshot → environment → queue slot → execution on a ComputeTarget →
 * logs, metrics and status recorded in the RunStore. Executions are found again by run id, so a later
 * process can reattach (reconcile) and any process can cancel. The engine's files are never read here:
 * logs arrive as chunks, outputs and tracking events through the execution's collect methods.
 */
export class RunLifecycle {
  readonly queue: RunQueue;
  private readonly active = new Map<string, RunHandle>();

  constructor(
    readonly target: ComputeTarget,
    readonly store: RunStore,
    options: LifecycleOptions = {},
  ) {
    this.queue = options.queue ?? new RunQueue(2);
  }

  handle(id: string): RunHandle | undefined {
    return this.active.get(id);
  }

  /**
   * Checks everything that can be checked before a run exists (script, the target's preflight, snapshot
   * size), throwing UserFacingError with the fix; then records a Queued run, copies the snapshot and
   * queues it. The returned handle's `done` settles when the run ends.
   */
  async submit(req: RunRequest, listener: RunListener = {}): Promise<RunHandle> {
    const scriptRel = this.validateScript(req);
    const options = req.options ?? {};
    const scriptDir = scriptDirOf(scriptRel);
    await this.target.preflight({ workspaceRoot: req.workspaceRoot, scriptDir, baseImage: req.baseImage, options });
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
      snapshot: { files: plan.files, bytes: plan.bytes, ...(plan.dropped.length ? { dropped: plan.dropped } : {}) },
      ...(Object.keys(options).length ? { options } : {}),
      owner: currentOwner(),
    };
    await this.store.create(record);
    if (git?.patch) await fs.promises.writeFile(path.join(this.store.paths(record.id).dir, 'git.patch'), git.patch);
    listener.onStatus?.(record);
    if (plan.dropped.length) listener.onOutput?.(record.id, 'stderr', Buffer.from(describeDropped('snapshot', plan.dropped)));

    return this.launch(record, listener, async () => {
      await copySnapshot(plan, this.store.paths(record.id).snapshot);
      return this.resolveEnvironment(record, req, scriptDir, listener);
    });
  }

  /**
   * Runs a past run again: same snapshot, same image id, same arguments and options; linked to its parent.
   * `args` replaces the arguments ("Modify and Rerun…" from the same snapshot).
   */
  async rerun(parentId: string, listener: RunListener = {}, args?: string[]): Promise<RunHandle> {
    const parent = await this.store.get(parentId);
    if (!parent) throw new UserFacingError(`Run ${parentId} does not exist.`);
    const parentPaths = this.store.paths(parentId);
    if (!parent.imageId || !fs.existsSync(parentPaths.snapshot)) {
      throw new UserFacingError(`Run ${parentId} never got as far as an image and a snapshot, so there is nothing to rerun; run the script again instead.`);
    }
    await this.target.preflightRerun(parent);
    const record: RunRecord = {
      schemaVersion: RUN_SCHEMA_VERSION,
      id: newRunId(),
      script: parent.script,
      args: args ?? parent.args,
      status: 'Queued',
      createdAt: new Date().toISOString(),
      git: parent.git,
      snapshot: parent.snapshot ? { files: parent.snapshot.files, bytes: parent.snapshot.bytes } : undefined,
      options: parent.options,
      parentId,
      owner: currentOwner(),
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
   * process following the execution reports Canceled) and stops the execution.
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
    const found = await this.target.findByRunId(id);
    for (const f of found) await f.execution.cancel().catch(() => undefined);
    if (!found.length && run.owner && !ownerAlive(run)) {
      return this.finish(id, { status: 'Canceled', reason: 'Canceled by user before it started.' }, {});
    }
    return this.store.get(id);
  }

  /**
   * Brings runs left Queued/Running by a process that is gone up to date. mode 'attach' follows executions
   * still running until they end (the extension); 'catch-up' only appends the logs written so far and
   * finalizes runs that already ended (a short CLI command). Finished-while-away runs get their status,
   * exit code and remaining logs from the execution; runs whose execution is gone become Lost.
   */
  async reconcile(mode: 'attach' | 'catch-up', listener: RunListener = {}): Promise<RunRecord[]> {
    const touched: RunRecord[] = [];
    // Only runs not yet ended can need it: the index finds them without reading every run.json.
    const candidates = (await this.store.listSummaries()).filter((s) => !isTerminal(s.status) && !this.active.has(s.id));
    for (const candidate of candidates) {
      const run = await this.store.get(candidate.id).catch(() => undefined);
      if (!run || isTerminal(run.status) || this.active.has(run.id)) continue;
      if (ownedByOtherLiveProcess(run)) continue;
      const [found] = await this.target.findByRunId(run.id);
      if (!found) {
        const paths = this.store.paths(run.id);
        // Nothing will collect them now: whatever the target lent of them (ownership, modes) comes back.
        await this.target.releaseFolders?.({ outputsDir: paths.outputs, trackingDir: paths.tracking }).catch(() => undefined);
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
      const { execution } = found;
      // Found running once the engine is back: its absence is over, and nothing of it was missed or stopped.
      const engineLost = !!run.engineLostAt && found.state !== 'running';
      if (run.engineLostAt && !engineLost) await this.store.update(run.id, { engineLostAt: undefined, reason: undefined });
      if (found.state === 'running' && mode === 'catch-up') {
        await this.streamLogs(run.id, execution, false, listener);
        continue;
      }
      await this.store.update(run.id, { owner: currentOwner(), containerId: execution.id });
      if (found.state === 'created') {
        await execution.remove().catch(() => undefined);
        touched.push(await this.finish(run.id, { status: 'Lost', reason: 'The process that created its container ended before starting it.' }, listener));
        continue;
      }
      const state = newRunState(execution);
      const followed = this.follow(run.id, execution, state, listener);
      const done = (engineLost ? followed.then((final) => this.afterEngineReturned(final, listener)) : followed).catch((err: Error) =>
        this.failed(run.id, err, listener),
      );
      const handle = this.register(run.id, state, done);
      if (mode === 'catch-up' || found.state !== 'running') touched.push(await handle.done);
      else touched.push((await this.store.get(run.id))!);
    }
    await this.removeLeftovers();
    return touched;
  }

  /**
   * Removes stopped executions of runs already recorded as ended: the record is final before the removal, so a
   * follower killed in between leaves one. Those of runs not ended (being reconciled, or another process's) stay.
   */
  private async removeLeftovers(): Promise<void> {
    const stopped = await this.target.findStopped?.(this.store.workspaceRoot).catch(() => []);
    for (const { runId, execution } of stopped ?? []) {
      if (this.active.has(runId)) continue;
      const run = await this.store.get(runId).catch(() => undefined);
      if (run && isTerminal(run.status)) await execution.remove().catch(() => undefined);
    }
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
    // The path is inside, but a link (the script's or a folder's) can still lead out: the snapshot holds only the
    // workspace, so the container would not find the script. Compared by real paths, the workspace's included.
    const real = fs.realpathSync(req.script);
    if (!isInsideFolder(fs.realpathSync(req.workspaceRoot), real)) {
      throw new UserFacingError(
        `${rel.split(path.sep).join('/')} leads through a symbolic link to ${real}, outside the workspace folder ${req.workspaceRoot}; ` +
          `the run's snapshot holds only the workspace, so the script would not be there. Copy the script into the workspace instead.`,
      );
    }
    return rel.split(path.sep).join('/');
  }

  private async resolveEnvironment(record: RunRecord, req: RunRequest, scriptDir: string, listener: RunListener): Promise<string> {
    const paths = this.store.paths(record.id);
    let buildLog: fs.WriteStream | undefined;
    try {
      const environment = await this.target.prepare({
        baseImage: req.baseImage,
        options: req.options ?? {},
        snapshotDir: paths.snapshot,
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
    let cancelRecorded = false;
    const handle: RunHandle = {
      id,
      done: done.finally(() => this.active.delete(id)),
      cancel: async (options) => {
        state.canceled = true;
        state.signalCancel();
        if (this.queue.withdraw(id)) return;
        // Recorded before the stop: if this process dies before it records the exit, the process that does
        // (reconcile) still says Canceled, not Failed with the stop's exit code.
        if (!cancelRecorded) await this.store.update(id, { cancelRequested: true }).catch(() => undefined);
        cancelRecorded = true;
        await state.execution?.cancel(options);
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
      const limits = resolveRunLimits(record.options ?? {}, await this.target.memoryCapacity?.().catch(() => undefined));
      const execution = await this.target.create({
        run: record,
        imageId,
        snapshotDir: paths.snapshot,
        workspaceRoot: this.store.workspaceRoot,
        outputsDir: paths.outputs,
        trackingDir: paths.tracking,
        limits,
      });
      state.execution = execution;
      await this.store.update(record.id, { containerId: execution.id, limits });
      if (await canceledElsewhere()) {
        await execution.remove().catch(() => undefined);
        return this.finish(record.id, { status: 'Canceled', reason: 'Canceled by user before it started.' }, listener);
      }
      await execution.start();
      // Not `onStatus?.(await update())`: an absent listener would skip the update itself.
      const running = await this.store.update(record.id, { status: 'Running', startedAt: new Date().toISOString() });
      listener.onStatus?.(running);
      return this.follow(record.id, execution, state, listener);
    };
    const done = run()
      .catch((err: Error) => this.failed(record.id, err, listener))
      .finally(() => release?.());
    return this.register(record.id, state, done);
  }

  /**
   * A run whose engine went away, found ended once it is back: a signal exit then is the engine's shutdown
   * stopping the container (dockerd stops its containers unless it runs with live-restore), not the script.
   */
  private async afterEngineReturned(final: RunRecord, listener: RunListener): Promise<RunRecord> {
    let reason: string | undefined;
    // Found ended at the first look after the engine went away. What a container prints while its engine is
    // stopped is kept by nobody if it exits before the engine is back (live-restore keeps the container, not
    // that output), so the record says its logs may have a gap.
    if (final.status === 'Completed') {
      reason = 'Completed, but Docker was stopped while it ran and it ended before it was reattached: Docker keeps no output written while its engine is stopped, so the logs may miss lines from then.';
    } else if (final.status === 'Failed' && final.exitCode !== undefined && final.exitCode > 128 && final.exitCode < 160) {
      reason = `Stopped by the Docker engine, which was shut down while the run was going (exit code ${final.exitCode}); the script did not finish.`;
    } else return final;
    const updated = await this.store.update(final.id, { reason });
    listener.onStatus?.(updated);
    return updated;
  }

  private async failed(id: string, err: Error, listener: RunListener): Promise<RunRecord> {
    let reason: string | undefined;
    if (err instanceof ImageBuildError) {
      reason = `Image build failed: ${err.message} (build log: ${path.relative(this.store.workspaceRoot, this.store.paths(id).buildLog)})`;
    } else if (err instanceof UserFacingError) {
      reason = err.message;
    } else if (this.target.describeFailure) {
      reason = this.target.describeFailure(err, await this.store.get(id).catch(() => undefined));
    }
    if (err instanceof TargetGoneError) {
      // Not final: the container may well outlive the engine's absence. Without an owner the run is the next
      // reconcile's to reattach, in this process or any other, once the engine answers again.
      const waiting = await this.store.update(id, { reason, engineLostAt: new Date().toISOString(), owner: undefined });
      listener.onStatus?.(waiting);
      return waiting;
    }
    // A create or start that failed leaves a container nobody would remove (a running one is left alone).
    for (const found of await this.target.findByRunId(id).catch(() => [])) {
      if (found.state !== 'running') await found.execution.remove().catch(() => undefined);
    }
    return this.finish(id, { status: 'Failed', reason: reason ?? `Internal error: ${err.message}` }, listener);
  }

  /**
   * Streams an execution's logs into logs.txt (skipping the bytes already there, so reattaching never
   * duplicates a line), enforces the timeout, waits for the exit, collects and finalizes the record.
   */
  private async follow(id: string, execution: Execution, state: RunState, listener: RunListener): Promise<RunRecord> {
    const run = (await this.store.get(id))!;
    const timeout = run.options?.timeoutSeconds;
    let timer: NodeJS.Timeout | undefined;
    if (timeout) {
      const started = run.startedAt ? Date.parse(run.startedAt) : Date.now();
      timer = setTimeout(() => {
        state.timedOut = true;
        void execution.cancel().catch(() => undefined);
      }, Math.max(0, started + timeout * 1000 - Date.now()));
    }
    const paths = this.store.paths(id);
    // Caps on what the run writes: passing one stops it, and the reason names the cap (runLimits.ts).
    const caps = run.limits && new CapWatch(paths, run.limits, run.options?.configName, () => void stopNow(execution));
    try {
      const logsEnded = this.streamLogs(id, execution, true, listener, caps);
      // Observed now, awaited below: a stream that fails early must not surface as an unhandled rejection.
      logsEnded.catch(() => undefined);
      const exit = await execution.wait();
      await logsEnded;
      caps?.stop();
      // What the run wrote is kept even when collecting part of it fails; the record says what is there.
      await execution.collectOutputs(paths.outputs).catch(() => undefined);
      await keepOnlySafeOutputs(this.store, id, (text) => listener.onOutput?.(id, 'stderr', Buffer.from(text))).catch(() => undefined);
      await execution.collectTracking(paths.tracking).catch(() => undefined);
      const code = exit.exitCode;
      const latest = await this.store.get(id);
      const overCap = caps?.reason ?? (run.limits && (await exceededCap(paths, run.limits, run.options?.configName)));
      let outcome: Partial<RunRecord>;
      if (state.canceled || latest?.cancelRequested) {
        outcome = { status: 'Canceled', exitCode: code, reason: 'Canceled by user.' };
      } else if (overCap) {
        outcome = { status: 'Failed', exitCode: code, reason: overCap };
      } else if (state.timedOut) {
        const where = run.options?.configName ? ` (timeout in run configuration "${run.options.configName}")` : '';
        outcome = { status: 'Failed', exitCode: code, reason: `Timed out after ${formatSeconds(timeout!)}${where}; the container was stopped.` };
      } else if (code === 0) {
        outcome = { status: 'Completed', exitCode: 0 };
      } else {
        outcome = { status: 'Failed', exitCode: code, reason: await describeFailedExit(code, exit.oomKilled, latest ?? run, paths.logs) };
      }
      const final = await this.finish(id, { ...outcome, ...engineTimes(exit) }, listener);
      // Only once the record is final: a follower that dies in between leaves an exited container behind, never
      // a finished run that the next process finds without a container and records as Lost.
      await execution.remove().catch(() => undefined);
      return final;
    } finally {
      clearTimeout(timer);
      caps?.stop();
    }
  }

  /** Appends the execution's logs after the bytes logs.txt already holds; follows when asked to. */
  private async streamLogs(id: string, execution: Execution, follow: boolean, listener: RunListener, caps?: CapWatch): Promise<void> {
    const file = this.store.paths(id).logs;
    const written = await fs.promises.stat(file).then((s) => s.size, () => 0);
    const limits = (await this.store.get(id))?.limits;
    // Without a follower (catch-up) a run past its log cap is stopped here; the one who finishes it says why.
    const cap = limits && new LogCap(limits, written, () => (caps ? caps.logsExceeded() : void stopNow(execution)));
    const out = fs.createWriteStream(file, { flags: 'a' });
    try {
      await execution.followLogs(written, (stream, chunk) => {
        for (const part of cap ? cap.admit(chunk) : [chunk]) {
          out.write(part);
          listener.onOutput?.(id, stream, part);
        }
      }, { follow });
    } finally {
      await new Promise((resolve) => out.end(resolve));
    }
  }

  private async finish(id: string, patch: Partial<RunRecord>, listener: RunListener): Promise<RunRecord> {
    const paths = this.store.paths(id);
    const tracking = await readRunTracking(paths.tracking, paths.outputs).catch(() => undefined);
    const final = await this.store.update(id, { ...patch, ...(tracking ?? {}), endedAt: patch.endedAt ?? new Date().toISOString() });
    listener.onStatus?.(final);
    return final;
  }
}
