import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUN_SCHEMA_VERSION, RunRecord, isTerminal } from '../../src/model/runs/run';
import { RunStore } from '../../src/model/runs/runStore';
import { TRACKING_FILE, readTracking } from '../../src/model/runs/tracking';
import { connectDocker, describeDockerHost } from '../../src/runner/docker/client';
import { ExperimentRunner, RunRequest } from '../../src/runner/experimentRunner';
import { RunQueue } from '../../src/runner/runQueue';
import { containersWithLabel, createTestWorkspace, docker, testBaseImage, write } from './support';
import { until } from '../harness/until';

const MB = 1024 * 1024;

describe('Experiment lifecycle (real Docker, real git)', function () {
  let ws: string;
  let runner: ExperimentRunner;
  const request = (script: string, extra: Partial<RunRequest> = {}): RunRequest => ({
    workspaceRoot: ws,
    script: path.join(ws, script),
    args: [],
    baseImage: testBaseImage(),
    snapshotMaxBytes: 50 * MB,
    ...extra,
  });
  before(() => {
    ws = createTestWorkspace('mlw-life-');
    runner = new ExperimentRunner(docker, new RunStore(ws), { queue: new RunQueue(4) });
  });

  it('records metrics, params and tags from the mlw module, visible while the run is going', async () => {
    const handle = await runner.submit(request('scripts/metrics.py'));
    const events = path.join(runner.store.paths(handle.id).tracking, TRACKING_FILE);
    const live = await until('metrics before the run ends', async () => {
      const data = await readTracking(events);
      return data.metrics.loss?.length === 3 ? data : undefined;
    });
    const during = await runner.store.get(handle.id);
    assert.ok(during && !isTerminal(during.status) && !during.endedAt, `not ended when the metrics were read (${during?.status})`);
    assert.deepEqual(live.metrics.loss.map((p) => p.step), [0, 1, 2]);
    const run = await handle.done;
    assert.equal(run.status, 'Completed', run.reason);
    assert.deepEqual(run.metrics, { loss: 1 / 3, accuracy: 0.9 });
    assert.deepEqual(run.params, { lr: 0.1, layers: 3 });
    assert.deepEqual(run.tags, { stage: 'test' });
  });

  it('applies run options: env, network none, cpus', async () => {
    write(ws, 'scripts/opts.py', [
      'import os',
      'print("SEED", os.environ.get("SEED"))',
      'print("nets", sorted(os.listdir("/sys/class/net")))',
      'q = "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"',
      'print("quota", open(q).read().strip() if os.path.exists(q) else open("/sys/fs/cgroup/cpu.max").read().split()[0])',
    ].join('\n'));
    const run = await (await runner.submit(request('scripts/opts.py', { options: { env: { SEED: '42', MLW_RUN_ID: 'spoof' }, network: 'none', resources: { cpus: 0.5 } } }))).done;
    assert.equal(run.status, 'Completed', run.reason);
    const logs = fs.readFileSync(runner.store.paths(run.id).logs, 'utf8');
    assert.match(logs, /SEED 42/);
    assert.match(logs, /nets \['lo'\]/);
    assert.match(logs, /quota 50000/);
  });

  it('says "out of memory" when the script exceeds resources.memory', async () => {
    write(ws, 'scripts/hog.py', 'blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))\n');
    const run = await (await runner.submit(request('scripts/hog.py', { options: { configName: 'small', resources: { memoryBytes: 64 * MB } } }))).done;
    assert.equal(run.status, 'Failed');
    assert.equal(run.exitCode, 137);
    assert.match(run.reason ?? '', /Out of memory.*raise resources\.memory/);
  });

  it('stops a run at its timeout and says so', async () => {
    const started = Date.now();
    const run = await (await runner.submit(request('scripts/slow.py', { options: { configName: 'quick', timeoutSeconds: 2 } }))).done;
    assert.equal(run.status, 'Failed');
    assert.match(run.reason ?? '', /Timed out after 2s \(timeout in run configuration "quick"\)/);
    assert.ok(Date.now() - started < 20_000);
    assert.deepEqual(await containersWithLabel(`mlw.run-id=${run.id}`), []);
  });

  it('refuses GPUs when the engine has no GPU runtime, before recording a run', async () => {
    const before = (await runner.store.list()).length;
    await assert.rejects(
      runner.submit(request('scripts/hello.py', { options: { configName: 'gpu', resources: { gpus: 1 } } })),
      /resources\.gpus is set in run configuration "gpu", but this Docker engine has no GPU runtime/,
    );
    assert.equal((await runner.store.list()).length, before);
  });

  it('saves git lineage: remote, the uncommitted diff as a patch, untracked files', async () => {
    execFileSync('git', ['remote', 'add', 'origin', 'https://example.invalid/team/project.git'], { cwd: ws });
    fs.appendFileSync(path.join(ws, 'scripts/hello.py'), 'print("uncommitted change")\n');
    write(ws, 'notes.txt', 'untracked');
    const run = await (await runner.submit(request('scripts/hello.py'))).done;
    assert.equal(run.git?.remote, 'https://example.invalid/team/project.git');
    assert.equal(run.git?.dirty, true);
    assert.equal(run.git?.patch, 'git.patch');
    const patch = fs.readFileSync(path.join(runner.store.paths(run.id).dir, 'git.patch'), 'utf8');
    assert.match(patch, /^\+print\("uncommitted change"\)$/m);
    assert.ok(run.git?.untracked?.includes('notes.txt'));
    execFileSync('git', ['checkout', '--', 'scripts/hello.py'], { cwd: ws });
    fs.rmSync(path.join(ws, 'notes.txt'));
  });

  it('reruns with the same snapshot, image and arguments, linked to the parent', async () => {
    const parent = await (await runner.submit(request('scripts/hello.py', { args: ['--seed', '7'] }))).done;
    fs.appendFileSync(path.join(ws, 'scripts/hello.py'), 'print("changed after the run")\n');
    const child = await (await runner.rerun(parent.id)).done;
    execFileSync('git', ['checkout', '--', 'scripts/hello.py'], { cwd: ws });
    assert.equal(child.status, 'Completed', child.reason);
    assert.equal(child.parentId, parent.id);
    assert.equal(child.imageId, parent.imageId);
    assert.deepEqual(child.args, ['--seed', '7']);
    assert.ok(parent.snapshot?.hash && parent.snapshot.hash.length === 64);
    assert.equal(child.snapshot?.hash, parent.snapshot?.hash);
    const logs = fs.readFileSync(runner.store.paths(child.id).logs, 'utf8');
    assert.match(logs, /args: --seed 7/);
    assert.doesNotMatch(logs, /changed after the run/, 'the rerun sees the old code');
  });

  it('runs 10 runs at once through a queue of 2: all correct, never more than 2 running', async () => {
    const queued = new ExperimentRunner(docker, runner.store, { queue: new RunQueue(2) });
    const handles = await Promise.all(Array.from({ length: 10 }, (_, i) => queued.submit(request('scripts/hello.py', { args: [`run-${i}`] }))));
    const runs = await Promise.all(handles.map((h) => h.done));
    runs.forEach((run, i) => {
      assert.equal(run.status, 'Completed', run.reason);
      assert.equal(fs.readFileSync(runner.store.paths(run.id).logs, 'utf8'), `hello from the experiment\nargs: run-${i}\n`);
    });
    const intervals = runs.map((r) => [Date.parse(r.startedAt!), Date.parse(r.endedAt!)]);
    for (const [start] of intervals) {
      const overlapping = intervals.filter(([s, e]) => s <= start && start < e).length;
      assert.ok(overlapping <= 2, `at most 2 running at ${start}, saw ${overlapping}`);
    }
  });

  it('cancels a queued run without starting it', async () => {
    const single = new ExperimentRunner(docker, runner.store, { queue: new RunQueue(1) });
    const first = await single.submit(request('scripts/slow.py'));
    const second = await single.submit(request('scripts/hello.py'));
    await until('the second run to be queued behind the first', async () => ((await single.store.get(second.id))?.snapshot?.hash ? true : undefined));
    await second.cancel();
    const secondRun = await second.done;
    assert.equal(secondRun.status, 'Canceled');
    assert.equal(secondRun.startedAt, undefined);
    await first.cancel();
    assert.equal((await first.done).status, 'Canceled');
  });

  it('cancels from another process-like runner: the follower reports Canceled', async () => {
    const handle = await runner.submit(request('scripts/slow.py'));
    await until('Running', async () => ((await runner.store.get(handle.id))?.status === 'Running' ? true : undefined));
    const other = new ExperimentRunner(docker, new RunStore(ws));
    await other.cancel(handle.id);
    const run = await handle.done;
    assert.equal(run.status, 'Canceled');
    assert.deepEqual(await containersWithLabel(`mlw.run-id=${run.id}`), []);
  });

  it('says Docker went away when the engine connection drops mid-run', async () => {
    const sock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-proxy-')), 'docker.sock');
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect('/var/run/docker.sock');
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => { client.destroy(); upstream.destroy(); };
      client.on('error', drop);
      upstream.on('error', drop);
    });
    await new Promise<void>((r) => proxy.listen(sock, r));
    const flaky = new ExperimentRunner(connectDocker(`unix://${sock}`), runner.store);
    const handle = await flaky.submit(request('scripts/slow.py'));
    try {
      await until('Running', async () => ((await runner.store.get(handle.id))?.status === 'Running' ? true : undefined));
      proxy.close();
      for (const s of sockets) s.destroy();
      const run = await handle.done;
      // The container outlives the connection: the run waits, Running, for a process that reaches Docker.
      assert.equal(run.status, 'Running');
      assert.ok(run.engineLostAt);
      assert.equal(run.owner, undefined);
      assert.match(run.reason ?? '', /Docker went away while the run was going .*its outcome is unknown until Docker is back/);
      assert.match(run.reason ?? '', new RegExp(`"docker -H unix://${sock} logs ${run.containerId!.slice(0, 12)}"`));
      await runner.cancel(run.id);
      const [reattached] = (await runner.reconcile('catch-up')).filter((r) => r.id === run.id);
      assert.equal(reattached?.status, 'Canceled', `the next reconcile on a working connection records how it ended: ${reattached?.reason}`);
      assert.deepEqual(await containersWithLabel(`mlw.run-id=${run.id}`), []);
    } finally {
      for (const c of await containersWithLabel(`mlw.run-id=${handle.id}`)) await docker.getContainer(c.Id).remove({ force: true });
    }
  });

  it('names the default engine by its socket in messages, not by docker-modem\'s socket finder', () => {
    assert.equal(describeDockerHost(connectDocker('')), 'unix:///var/run/docker.sock');
  });

  it('marks a run Lost when its container is gone and its process ended', async () => {
    const id = '20200101-000000-dead';
    await runner.store.create({
      schemaVersion: RUN_SCHEMA_VERSION, id, script: 'scripts/hello.py', args: [], status: 'Running',
      createdAt: new Date().toISOString(), startedAt: new Date().toISOString(), owner: { pid: 2 ** 22 + 7, host: os.hostname() },
    } as RunRecord);
    const touched = await new ExperimentRunner(docker, new RunStore(ws)).reconcile('catch-up');
    const lost = touched.find((r) => r.id === id);
    assert.equal(lost?.status, 'Lost');
    assert.match(lost?.reason ?? '', /container is gone/);
  });

  it('gives a Lost run its folders back (as root the run had them, its folder private)', async function () {
    if (process.getuid?.() !== 0) return this.skip();
    const id = '20200101-000000-lent';
    await runner.store.create({
      schemaVersion: RUN_SCHEMA_VERSION, id, script: 'scripts/hello.py', args: [], status: 'Running',
      createdAt: new Date().toISOString(), startedAt: new Date().toISOString(), owner: { pid: 2 ** 22 + 9, host: os.hostname() },
    } as RunRecord);
    const paths = runner.store.paths(id);
    // As the local Docker target leaves them while its container runs: the run's uid owns them, the folder is 0700.
    for (const dir of [paths.outputs, paths.tracking]) {
      fs.mkdirSync(dir, { recursive: true });
      fs.chownSync(dir, 70000, 70000);
    }
    fs.writeFileSync(path.join(paths.outputs, 'model.bin'), 'x');
    fs.chownSync(path.join(paths.outputs, 'model.bin'), 70000, 70000);
    fs.chmodSync(paths.dir, 0o700);
    const touched = await new ExperimentRunner(docker, new RunStore(ws)).reconcile('catch-up');
    assert.equal(touched.find((r) => r.id === id)?.status, 'Lost');
    for (const f of [paths.outputs, paths.tracking, path.join(paths.outputs, 'model.bin')]) assert.equal(fs.statSync(f).uid, 0, `${f} is root's again`);
    assert.equal(fs.statSync(paths.dir).mode & 0o777, fs.statSync(path.dirname(paths.dir)).mode & 0o777, 'the run folder has its siblings\' mode');
  });

  it('removes a stopped container left behind by a run already recorded as ended (a follower killed after its final write)', async () => {
    const run = await (await runner.submit(request('scripts/hello.py'))).done;
    assert.equal(run.status, 'Completed', run.reason);
    const leftover = execFileSync('docker', ['create', '--label', `mlw.run-id=${run.id}`, '--label', `mlw.workspace=${ws}`, testBaseImage(), 'true'], { encoding: 'utf8' }).trim();
    const unrelated = execFileSync('docker', ['create', '--label', `mlw.run-id=${run.id}`, '--label', 'mlw.workspace=/elsewhere', testBaseImage(), 'true'], { encoding: 'utf8' }).trim();
    try {
      await new ExperimentRunner(docker, new RunStore(ws)).reconcile('catch-up');
      const exists = (id: string) => docker.getContainer(id).inspect().then(() => true, () => false);
      assert.equal(await exists(leftover), false, 'the leftover of an ended run is removed');
      assert.equal(await exists(unrelated), true, "another workspace's container is left alone");
    } finally {
      for (const id of [leftover, unrelated]) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
    }
  });

  it('survives kill -9 of a process writing run records: every run.json still parses', async () => {
    const r = await runner.store.create({ schemaVersion: RUN_SCHEMA_VERSION, id: '20200101-000000-kill', script: 'x.py', args: [], status: 'Queued', createdAt: new Date().toISOString() });
    const storeModule = path.resolve(__dirname, '../../src/model/runs/runStore.js');
    const child = require('node:child_process').spawn(process.execPath, ['-e', `
      const { RunStore } = require(${JSON.stringify(storeModule)});
      const s = new RunStore(${JSON.stringify(ws)});
      (async () => { for (let i = 0; ; i++) await s.update(${JSON.stringify(r.id)}, { args: [String(i), 'y'.repeat(i % 5000)] }); })();
    `]);
    await new Promise((res) => setTimeout(res, 700));
    child.kill('SIGKILL');
    await new Promise((res) => child.on('exit', res));
    const after = await runner.store.get(r.id);
    assert.ok(after && Number(after.args[0]) > 10, `many writes happened before the kill (${after?.args[0]})`);
    assert.ok((await runner.store.list()).some((x) => x.id === r.id));
  });
});
