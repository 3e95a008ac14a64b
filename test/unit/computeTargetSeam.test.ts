import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunEnvironment, RunRecord } from '../../src/model/runs/run';
import { RunStore } from '../../src/model/runs/runStore';
import { ExperimentRunner } from '../../src/runner/experimentRunner';
import { ComputeTarget, Execution, ExecutionSpec, ExitStatus, FoundExecution, LogStreamName } from '../../src/runner/targets/computeTarget';
import { REPO_ROOT } from '../harness/testWorkspace';
import { createTestWorkspace, tempDir, write } from './support';

/**
 * A compute target that is not Docker: the script runs as a child process of this one, in a folder of its
 * own (a copy of the snapshot), and its outputs and tracking events come back only through collect. If the
 * lifecycle works on it unchanged, a new target needs no lifecycle edits.
 */
class ChildProcessTarget implements ComputeTarget {
  readonly executions = new Map<string, ChildProcessExecution>();
  readonly root = tempDir('mlw-proc-target-');

  async preflight(): Promise<void> {}
  async preflightRerun(): Promise<void> {}

  async prepare(): Promise<RunEnvironment> {
    return { kind: 'base', baseImage: 'host python3', imageTag: 'host-python3', imageId: 'host:python3', built: false };
  }

  async create(spec: ExecutionSpec): Promise<Execution> {
    const execution = new ChildProcessExecution(spec.run, path.join(this.root, spec.run.id), spec.snapshotDir);
    this.executions.set(spec.run.id, execution);
    return execution;
  }

  async findByRunId(runId: string): Promise<FoundExecution[]> {
    const e = this.executions.get(runId);
    return e ? [{ execution: e, state: e.state }] : [];
  }
}

class ChildProcessExecution implements Execution {
  private child?: ChildProcess;
  private readonly chunks: { stream: LogStreamName; chunk: Buffer }[] = [];
  private readonly followers = new Set<(stream: LogStreamName, chunk: Buffer) => void>();
  private exited?: Promise<ExitStatus>;
  private ended = false;
  readonly work: string;
  readonly outputs: string;
  readonly tracking: string;

  constructor(private readonly run: RunRecord, readonly dir: string, snapshotDir: string) {
    this.work = path.join(dir, 'work');
    this.outputs = path.join(dir, 'outputs');
    this.tracking = path.join(dir, 'tracking');
    fs.cpSync(snapshotDir, this.work, { recursive: true });
    fs.mkdirSync(this.outputs, { recursive: true });
    fs.mkdirSync(this.tracking, { recursive: true });
  }

  get id(): string {
    return `proc-${this.run.id}`;
  }

  get state(): FoundExecution['state'] {
    return !this.child ? 'created' : this.ended ? 'stopped' : 'running';
  }

  async start(): Promise<void> {
    const scriptDir = path.posix.dirname(this.run.script);
    const child = spawn('python3', ['-u', path.posix.basename(this.run.script), ...this.run.args], {
      cwd: path.join(this.work, scriptDir),
      env: { ...process.env, PYTHONPATH: path.join(REPO_ROOT, 'python'), MLW_RUN_ID: this.run.id, MLW_OUTPUTS: this.outputs, MLW_TRACKING_DIR: this.tracking },
    });
    this.child = child;
    const emit = (stream: LogStreamName) => (chunk: Buffer) => {
      this.chunks.push({ stream, chunk });
      for (const f of this.followers) f(stream, chunk);
    };
    child.stdout!.on('data', emit('stdout'));
    child.stderr!.on('data', emit('stderr'));
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        this.ended = true;
        resolve({ exitCode: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), oomKilled: false });
      }),
    );
  }

  async followLogs(fromByte: number, onChunk: (stream: LogStreamName, chunk: Buffer) => void, options: { follow?: boolean } = {}): Promise<void> {
    let skip = fromByte;
    const deliver = (stream: LogStreamName, chunk: Buffer) => {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        return;
      }
      onChunk(stream, chunk.subarray(skip));
      skip = 0;
    };
    for (const { stream, chunk } of this.chunks) deliver(stream, chunk);
    if (!(options.follow ?? true) || this.ended || !this.exited) return;
    this.followers.add(deliver);
    await this.exited;
    this.followers.delete(deliver);
  }

  wait(): Promise<ExitStatus> {
    return this.exited!;
  }

  async cancel(): Promise<void> {
    if (this.child && !this.ended) this.child.kill('SIGTERM');
  }

  async collectOutputs(destDir: string): Promise<void> {
    fs.cpSync(this.outputs, destDir, { recursive: true });
  }

  async collectTracking(destDir: string): Promise<void> {
    fs.cpSync(this.tracking, destDir, { recursive: true });
  }

  async remove(): Promise<void> {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('ExperimentRunner on a compute target that is not Docker (child processes)', () => {
  let ws: string;
  let target: ChildProcessTarget;
  let runner: ExperimentRunner;
  const request = (script: string, args: string[] = []) => ({
    workspaceRoot: ws,
    script: path.join(ws, script),
    args,
    baseImage: 'unused',
    snapshotMaxBytes: 50 * 1024 * 1024,
  });
  before(() => {
    ws = createTestWorkspace('mlw-seam-');
    target = new ChildProcessTarget();
    runner = new ExperimentRunner(target, new RunStore(ws));
  });
  after(() => fs.rmSync(target.root, { recursive: true, force: true }));

  it('goes Queued → Running → Completed with logs, metrics and outputs recorded through collect', async () => {
    write(ws, 'seam/train.py', [
      'import os, sys, mlw',
      'print("epochs", sys.argv[1:])',
      'print("a warning", file=sys.stderr)',
      'mlw.log_params({"lr": 0.5})',
      'for step in range(3):',
      '    mlw.log_metric("loss", 1 / (step + 1), step=step)',
      'model = os.path.join(os.environ["MLW_OUTPUTS"], "model.txt")',
      'open(model, "w").write("weights")',
      'mlw.log_artifact(model)',
    ].join('\n'));
    const statuses: string[] = [];
    const live: string[] = [];
    const handle = await runner.submit(request('seam/train.py', ['3']), {
      onStatus: (r) => statuses.push(r.status),
      onOutput: (_id, stream, chunk) => live.push(`${stream}:${chunk}`),
    });
    const run = await handle.done;
    assert.equal(run.status, 'Completed', run.reason);
    assert.deepEqual(statuses, ['Queued', 'Running', 'Completed']);
    assert.equal(run.exitCode, 0);
    assert.equal(run.containerId, `proc-${run.id}`);
    assert.equal(run.imageId, 'host:python3');
    const paths = runner.store.paths(run.id);
    const logs = fs.readFileSync(paths.logs, 'utf8');
    assert.match(logs, /epochs \['3'\]/);
    assert.match(logs, /a warning/);
    assert.ok(live.some((l) => l.startsWith('stderr:a warning')));
    assert.deepEqual(run.metrics, { loss: 1 / 3 });
    assert.deepEqual(run.params, { lr: 0.5 });
    assert.deepEqual(run.artifacts, ['model.txt']);
    assert.equal(fs.readFileSync(path.join(paths.outputs, 'model.txt'), 'utf8'), 'weights');
    assert.equal(fs.existsSync(path.join(target.root, run.id)), false, 'the execution was removed');
  });

  it('cancels a running run, here and from another runner that only finds it by run id', async () => {
    write(ws, 'seam/slow.py', 'import time\nprint("started", flush=True)\ntime.sleep(60)\n');
    const handle = await runner.submit(request('seam/slow.py'));
    const runningIn = async (r: ExperimentRunner, id: string) => {
      for (let i = 0; i < 100; i++) {
        // Its first line logged, not only the file made: a cancel before python prints would leave nothing to check.
        const logs = r.store.paths(id).logs;
        if ((await r.store.get(id))?.status === 'Running' && fs.existsSync(logs) && fs.readFileSync(logs, 'utf8').includes('started')) return;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error('the run never started');
    };
    await runningIn(runner, handle.id);
    await handle.cancel();
    const canceled = await handle.done;
    assert.equal(canceled.status, 'Canceled');
    assert.equal(canceled.reason, 'Canceled by user.');

    const second = await runner.submit(request('seam/slow.py'));
    await runningIn(runner, second.id);
    const other = new ExperimentRunner(target, new RunStore(ws));
    await other.cancel(second.id);
    const run = await second.done;
    assert.equal(run.status, 'Canceled');
    assert.match(fs.readFileSync(runner.store.paths(run.id).logs, 'utf8'), /started/);
  });
});
