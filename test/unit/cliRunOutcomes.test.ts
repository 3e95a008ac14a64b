import * as assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunRecord } from '../../src/model/runs/run';
import { RunStore } from '../../src/model/runs/runStore';
import { REPO_ROOT } from '../harness/testWorkspace';
import { containersWithLabel, createTestWorkspace, docker, testBaseImage, write } from './support';
import { until } from '../harness/until';

const MLW = path.join(REPO_ROOT, 'bin', 'mlw');
const ENV = { ...process.env, MLW_BASE_IMAGE: '' };

function mlw(cwd: string, ...args: string[]) {
  const r = spawnSync(MLW, args, { cwd, encoding: 'utf8', env: ENV });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A running `mlw` child whose output is collected as it comes. */
function start(cwd: string, ...args: string[]): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(MLW, args, { cwd, env: ENV });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, out: () => out, err: () => err, exit };
}

const seconds = (run: Pick<RunRecord, 'startedAt' | 'endedAt'>) => (Date.parse(run.endedAt!) - Date.parse(run.startedAt!)) / 1000;

describe('mlw run outcomes: closed stdout, Ctrl+C, dying followers, reconciled times (real Docker)', function () {
  this.timeout(180_000);
  let ws: string;
  let store: RunStore;
  const listed = (id: string): RunRecord => JSON.parse(mlw(ws, 'runs', 'list', '--json').stdout).find((r: RunRecord) => r.id === id);
  const runOf = async (script: string) => (await store.list()).find((r) => r.script === script);

  before(() => {
    ws = createTestWorkspace('mlw-outcomes-');
    // These runs need no network (and must not depend on the engine's default bridge).
    write(ws, '.mlw/runconfigs/default.yaml', 'network: none\n');
    write(ws, 'scripts/stubborn.py', [
      'import signal, time',
      'signal.signal(signal.SIGTERM, lambda *a: print("ignoring SIGTERM", flush=True))',
      'print("stubborn started", flush=True)',
      'time.sleep(120)',
      '',
    ].join('\n'));
    write(ws, 'scripts/second.py', 'import time\nprint("started", flush=True)\ntime.sleep(1)\nprint("ended", flush=True)\n');
    store = new RunStore(ws);
  });

  /** Images a test built, removed by their exact tags. */
  const builtImages: string[] = [];
  after(async () => {
    for (const tag of builtImages) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  });

  afterEach(async () => {
    // Only containers of this workspace's runs, by their exact run ids.
    for (const run of await store.list()) {
      for (const c of await containersWithLabel(`mlw.run-id=${run.id}`)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
  });

  it('keeps following and recording a run whose stdout reader closed early (mlw run … | head -1)', async () => {
    const r = spawnSync('bash', ['-c', `"${MLW}" run scripts/counter.py -- 40 | head -1; echo "mlw exited \${PIPESTATUS[0]}" >&2`], { cwd: ws, encoding: 'utf8', env: ENV });
    assert.equal(r.stdout, 'line 0000 \n');
    assert.doesNotMatch(r.stderr, /EPIPE|unexpected error|\n\s+at /, r.stderr);
    assert.match(r.stderr, /mlw: run \S+ Completed\n/);
    assert.match(r.stderr, /mlw exited 0\n$/);
    const run = (await runOf('scripts/counter.py'))!;
    assert.deepEqual([run.status, run.exitCode], ['Completed', 0]);
    assert.match(fs.readFileSync(store.paths(run.id).logs, 'utf8'), /line 0039 .*\ncounter done\n$/, 'logs.txt has every line');
    assert.deepEqual(await containersWithLabel(`mlw.run-id=${run.id}`), [], 'the container was removed');
  });

  it('Ctrl+C: the first stops the run, the second kills it now; it ends Canceled with its real duration', async () => {
    const m = start(ws, 'run', 'scripts/stubborn.py');
    await until('the script to start', () => m.out().includes('stubborn started'));
    const id = (await runOf('scripts/stubborn.py'))!.id;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await sleep(1000);
    m.child.kill('SIGINT');
    await until('the first Ctrl+C to be answered', () => m.out().includes('ignoring SIGTERM'));
    await sleep(1000);
    assert.match(m.err(), new RegExp(`mlw: canceling run ${id}: stopping its container \\(the script gets 5 s to exit, then it is killed\\); Ctrl\\+C again to kill it now\n$`));
    const secondAt = Date.now();
    m.child.kill('SIGINT');
    const exit = await m.exit;
    assert.equal(exit.code, 130);
    assert.ok(Date.now() - secondAt < 4000, 'the second Ctrl+C killed it without waiting for the 5 s grace');
    const lines = m.err().split('\n').filter((l) => l.startsWith('mlw:')).slice(-3);
    assert.deepEqual(lines, [
      `mlw: canceling run ${id}: stopping its container (the script gets 5 s to exit, then it is killed); Ctrl+C again to kill it now`,
      `mlw: killing the container of run ${id} now; Ctrl+C again to leave without waiting`,
      `mlw: run ${id} Canceled: Canceled by user.`,
    ]);
    const run = (await store.get(id))!;
    assert.deepEqual([run.status, run.exitCode, run.reason], ['Canceled', 137, 'Canceled by user.']);
    assert.deepEqual(await containersWithLabel(`mlw.run-id=${id}`), [], 'the container was removed');
    // From the start to the kill, 2 s of waiting between them, by the engine's clock: not the 5 s grace.
    assert.ok(seconds(run) >= 2 && seconds(run) < 4.5, `duration ${seconds(run)} s`);
    assert.deepEqual([listed(id).status, listed(id).exitCode], ['Canceled', 137], 'a later list agrees');
  });

  it('Ctrl+C before the run starts says it will not start, and it ends Canceled without a container', async () => {
    const building = createTestWorkspace('mlw-outcomes-build-');
    write(building, '.mlw/runconfigs/default.yaml', 'network: none\n');
    // A build of its own (no cache hit) that is still going when Ctrl+C comes.
    write(building, 'Dockerfile', `FROM ${testBaseImage()}\nRUN sleep 3 && echo ${process.pid}-${Date.now()} > /tmp/token\n`);
    const m = start(building, 'run', 'scripts/hello.py');
    await until('the build step', () => /mlw: Step 2\/\d+ : RUN sleep/.test(m.err()));
    builtImages.push(/Building environment image (mlw-env:\w+)/.exec(m.err())![1]);
    const id = /mlw: run (\S+) Queued/.exec(m.err())![1];
    m.child.kill('SIGINT');
    const exit = await m.exit;
    assert.equal(exit.code, 130, m.err());
    assert.match(m.err(), new RegExp(`\nmlw: canceling run ${id}: it will not start; Ctrl\\+C again to leave without waiting\n`));
    assert.match(m.err(), new RegExp(`mlw: run ${id} Canceled: Canceled by user before it started\\.\n$`));
    assert.doesNotMatch(m.out(), /hello from the experiment/);
    const run = (await new RunStore(building).get(id))!;
    assert.deepEqual([run.status, run.reason, run.startedAt, run.containerId], ['Canceled', 'Canceled by user before it started.', undefined, undefined]);
    assert.deepEqual(await containersWithLabel(`mlw.run-id=${id}`), []);
  });

  it('a canceled run whose mlw dies before the stop ends is recorded Canceled by the next list, with the container’s times', async () => {
    const m = start(ws, 'run', 'scripts/stubborn.py');
    await until('the script to start', () => m.out().includes('stubborn started'));
    const id = (await runOf('scripts/stubborn.py'))!.id;
    m.child.kill('SIGINT');
    await until('the stop to reach the script', () => m.out().includes('ignoring SIGTERM'));
    m.child.kill('SIGKILL');
    await m.exit;
    const [c] = await containersWithLabel(`mlw.run-id=${id}`);
    // The engine finishes the stop (a kill after the 5 s grace) on its own.
    await docker.getContainer(c.Id).wait();
    const state = (await docker.getContainer(c.Id).inspect()).State;
    await new Promise((r) => setTimeout(r, 1500));
    const run = listed(id);
    assert.deepEqual([run.status, run.exitCode, run.reason], ['Canceled', 137, 'Canceled by user.']);
    assert.equal(run.startedAt, new Date(state.StartedAt).toISOString());
    assert.equal(run.endedAt, new Date(state.FinishedAt).toISOString());
  });

  it('a run reconciled after its follower died gets its start and end from the container, not from the catch-up', async () => {
    const m = start(ws, 'run', 'scripts/second.py');
    await until('the script to start', () => m.out().includes('started'));
    const id = (await runOf('scripts/second.py'))!.id;
    m.child.kill('SIGKILL');
    await m.exit;
    const [c] = await containersWithLabel(`mlw.run-id=${id}`);
    await docker.getContainer(c.Id).wait();
    const state = (await docker.getContainer(c.Id).inspect()).State;
    // As a follower killed between starting the container and recording it leaves the run: Queued, no start time.
    const record = JSON.parse(fs.readFileSync(store.paths(id).record, 'utf8')) as RunRecord;
    delete record.startedAt;
    fs.writeFileSync(store.paths(id).record, JSON.stringify({ ...record, status: 'Queued' }, null, 2));
    await new Promise((r) => setTimeout(r, 3000));
    const run = listed(id);
    assert.deepEqual([run.status, run.exitCode], ['Completed', 0]);
    assert.equal(run.startedAt, new Date(state.StartedAt).toISOString());
    assert.equal(run.endedAt, new Date(state.FinishedAt).toISOString());
    assert.ok(seconds(run) >= 1 && seconds(run) < 2.5, `a 1 s script recorded as ${seconds(run)} s`);
    assert.match(mlw(ws, 'runs', 'list').stdout, new RegExp(`${id}\\s+Completed\\s+scripts/second\\.py\\s+\\S+ \\S+\\s+[12](\\.\\d)? ?s\\s+0\\n`));
  });

  it('a follower killed right after removing the container leaves the run recorded as it ended, not Lost', async () => {
    // The lifecycle in a child process whose container removal is followed at once by its own kill -9.
    const requireOut = (rel: string) => JSON.stringify(path.join(REPO_ROOT, 'out', rel));
    const script = `
      const path = require('node:path');
      const Docker = require(${JSON.stringify(require.resolve('dockerode'))});
      const { RunStore } = require(${requireOut('src/model/runs/runStore')});
      const { ExperimentRunner, defaultHelperDir } = require(${requireOut('src/runner/experimentRunner')});
      const { LocalDockerTarget } = require(${requireOut('src/runner/targets/localDocker/localDockerTarget')});
      const target = new LocalDockerTarget(new Docker(), { helperDir: defaultHelperDir() });
      const create = target.create.bind(target);
      target.create = async (spec) => {
        const execution = await create(spec);
        const remove = execution.remove.bind(execution);
        execution.remove = async () => { await remove(); process.kill(process.pid, 'SIGKILL'); };
        return execution;
      };
      const ws = ${JSON.stringify(ws)};
      new ExperimentRunner(target, new RunStore(ws))
        .submit({ workspaceRoot: ws, script: path.join(ws, 'scripts/hello.py'), args: ['dies'], baseImage: ${JSON.stringify(testBaseImage())}, snapshotMaxBytes: 50e6, options: { network: 'none' } })
        .then((h) => h.done)
        .then(() => process.exit(3), (e) => { console.error(e); process.exit(4); });`;
    const child = spawnSync(process.execPath, ['-e', script], { cwd: ws, encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', `the follower was not killed at removal: ${child.status} ${child.stderr}`);
    const id = (await store.list()).find((r) => r.args[0] === 'dies')!.id;
    assert.deepEqual(await containersWithLabel(`mlw.run-id=${id}`), [], 'its container was removed before the kill');
    const run = listed(id);
    assert.deepEqual([run.status, run.exitCode, run.reason], ['Completed', 0, undefined]);
    assert.ok(run.endedAt && seconds(run) > 0, 'with its end time');
    assert.match(fs.readFileSync(store.paths(id).logs, 'utf8'), /hello from the experiment/);
  });
});
