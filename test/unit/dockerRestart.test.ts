import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunStore } from '../../src/model/runs/runStore';
import { connectDocker } from '../../src/runner/docker/client';
import { ExperimentRunner } from '../../src/runner/experimentRunner';
import { defaultHelperDir } from '../../src/runner/targets/localDocker/helperDir';
import { LocalDockerTarget } from '../../src/runner/targets/localDocker/localDockerTarget';
import { ExecutionSpec } from '../../src/runner/targets/computeTarget';
import { SecondDockerd } from '../harness/secondDockerd';
import { REPO_ROOT } from '../harness/testWorkspace';
import { createTestWorkspace, tempDir, testBaseImage } from './support';
import { until } from '../harness/until';

const MLW = path.join(REPO_ROOT, 'bin', 'mlw');
const LINES = 100;

function mlw(cwd: string, ...args: string[]) {
  const r = spawnSync(MLW, args, { cwd, encoding: 'utf8', env: { ...process.env, MLW_BASE_IMAGE: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** logs.txt of a counter.py run: every line once, in order, none missing when the run finished. */
function assertCounterLogs(text: string, finished: boolean): void {
  const lines = text.split('\n').filter(Boolean);
  const numbered = lines.filter((l) => l.startsWith('line '));
  assert.equal(new Set(numbered).size, numbered.length, 'no line is duplicated');
  numbered.forEach((l, i) => assert.ok(l.startsWith(`line ${String(i).padStart(4, '0')} `), `line ${i} is in order: ${l}`));
  if (finished) {
    assert.equal(numbered.length, LINES);
    assert.equal(lines[lines.length - 1], 'counter done');
  }
}

/**
 * Item 17 on a second, private dockerd (test/harness/secondDockerd.ts) stopped and started mid-run: the shared
 * engine is never touched. The CLI reaches it through --docker-host.
 */
describe('Docker going away mid-run (a second dockerd, stopped and started)', function () {
  this.timeout(240_000);
  let engine: SecondDockerd;
  let ws: string;
  before(async function () {
    // A second engine needs dockerd and root; without them there is nothing to stop and start.
    if (process.getuid?.() !== 0 || spawnSync('dockerd', ['--version']).status !== 0) this.skip();
    engine = await SecondDockerd.start({ image: testBaseImage() });
    ws = createTestWorkspace('mlw-restart-');
  });
  after(async () => {
    await engine?.dispose();
    if (ws) fs.rmSync(ws, { recursive: true, force: true });
  });

  /** Starts `mlw run counter.py` on the second engine and resolves once the run is Running with some logs. */
  async function startCounter(store: RunStore) {
    const child = spawn(MLW, ['run', '--docker-host', engine.host, 'scripts/counter.py', '--', String(LINES)], {
      cwd: ws,
      env: { ...process.env, MLW_BASE_IMAGE: '' },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const known = new Set((await store.list()).map((r) => r.id));
    const id = await until('a Running run with logs', async () => {
      const run = (await store.list()).find((r) => !known.has(r.id));
      if (run?.status !== 'Running') return undefined;
      const logs = store.paths(run.id).logs;
      return fs.existsSync(logs) && fs.readFileSync(logs, 'utf8').split('\n').length > 10 ? run.id : undefined;
    });
    return { id, exited, stderr: () => stderr };
  }

  it('a container that outlives the engine (live-restore) is reattached by the next list: Completed, every log line once, container removed', async () => {
    await engine.stopEngine();
    await engine.startEngine(true);
    const store = new RunStore(ws);
    const run = await startCounter(store);
    await engine.stopEngine();
    assert.equal(await run.exited, 1, 'the CLI says the run did not complete');
    const record = (await store.get(run.id))!;
    assert.equal(record.status, 'Running', 'its outcome is unknown, not Failed');
    assert.ok(record.engineLostAt, 'the record says when the engine went away');
    assert.match(record.reason ?? '', /Docker went away while the run was going/);
    // The hint names the engine the run used, not the docker CLI's default.
    assert.ok(run.stderr().includes(`"docker -H ${engine.host} logs ${record.containerId!.slice(0, 12)}"`), run.stderr());
    assert.match(run.stderr(), /the next "mlw runs list" or ML Workbench window reattaches the run/);

    await engine.startEngine(true);
    const docker = engine.client();
    const [info] = await docker.listContainers({ all: true, filters: { label: [`mlw.run-id=${run.id}`] } });
    assert.ok(info, 'the container survived the engine restart');
    // Still running: the first list after the engine is back ends the "went away" state.
    mlw(ws, 'runs', 'list', '--docker-host', engine.host);
    const caughtUp = (await store.get(run.id))!;
    assert.equal(caughtUp.status, 'Running');
    assert.equal(caughtUp.engineLostAt, undefined);
    assert.equal(caughtUp.reason, undefined);
    await docker.getContainer(info.Id).wait();
    const list = mlw(ws, 'runs', 'list', '--json', '--docker-host', engine.host);
    const listed = JSON.parse(list.stdout).find((r: { id: string }) => r.id === run.id);
    assert.equal(listed.status, 'Completed', listed.reason);
    const final = (await store.get(run.id))!;
    assert.equal(final.exitCode, 0);
    assert.equal(final.reason, undefined);
    assert.ok(final.startedAt && final.endedAt);
    assertCounterLogs(fs.readFileSync(store.paths(run.id).logs, 'utf8'), true);
    assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`mlw.run-id=${run.id}`] } }), [], 'the exited container is removed');
  });

  it('a run that ends while its engine is stopped (live-restore) is Completed with a note that its logs may have a gap', async () => {
    await engine.stopEngine();
    await engine.startEngine(true);
    const store = new RunStore(ws);
    const run = await startCounter(store);
    await engine.stopEngine();
    assert.equal(await run.exited, 1);
    await new Promise((r) => setTimeout(r, 7000)); // the script's remaining ~4 s pass with no engine
    await engine.startEngine(true);
    const listed = JSON.parse(mlw(ws, 'runs', 'list', '--json', '--docker-host', engine.host).stdout).find((r: { id: string }) => r.id === run.id);
    assert.equal(listed.status, 'Completed');
    const final = (await store.get(run.id))!;
    assert.equal(final.exitCode, 0);
    assert.match(final.reason ?? '', /Docker keeps no output written while its engine is stopped, so the logs may miss lines from then/);
    assertCounterLogs(fs.readFileSync(store.paths(run.id).logs, 'utf8'), false);
  });

  it('a graceful engine stop (no live-restore) is recorded after the restart as stopped by the engine, not "signal 15"; container removed', async () => {
    await engine.stopEngine();
    await engine.startEngine(false);
    const store = new RunStore(ws);
    const run = await startCounter(store);
    await engine.stopEngine();
    assert.equal(await run.exited, 1);
    const waiting = (await store.get(run.id))!;
    assert.equal(waiting.status, 'Running');
    assert.match(waiting.reason ?? '', /The Docker engine was shut down while the run was going \(it stopped the container as it shut down, exit code 143\)/);
    assert.doesNotMatch(run.stderr(), /signal 15/);

    await engine.startEngine(false);
    const list = mlw(ws, 'runs', 'list', '--json', '--docker-host', engine.host);
    const listed = JSON.parse(list.stdout).find((r: { id: string }) => r.id === run.id);
    assert.equal(listed.status, 'Failed');
    assert.equal(listed.exitCode, 143);
    const final = (await store.get(run.id))!;
    assert.equal(final.reason, 'Stopped by the Docker engine, which was shut down while the run was going (exit code 143); the script did not finish.');
    assert.match(mlw(ws, 'runs', 'show', run.id).stdout, /Status {4}Failed — Stopped by the Docker engine, which was shut down/);
    assertCounterLogs(fs.readFileSync(store.paths(run.id).logs, 'utf8'), false);
    assert.deepEqual(await engine.client().listContainers({ all: true, filters: { label: [`mlw.run-id=${run.id}`] } }), []);
  });

  it('a start that fails removes the container it created', async () => {
    if (!engine.pid) await engine.startEngine();
    // A real start failure: the helper folder the container bind-mounts is gone between create and start.
    const helper = tempDir('mlw-helper-');
    fs.cpSync(defaultHelperDir(), helper, { recursive: true });
    class HelperVanishes extends LocalDockerTarget {
      override async create(spec: ExecutionSpec) {
        const execution = await super.create(spec);
        fs.rmSync(helper, { recursive: true, force: true });
        return execution;
      }
    }
    const docker = connectDocker(engine.host);
    const runner = new ExperimentRunner(new HelperVanishes(docker, { helperDir: helper }), new RunStore(ws));
    const run = await (await runner.submit({ workspaceRoot: ws, script: path.join(ws, 'scripts/hello.py'), args: [], baseImage: testBaseImage(), snapshotMaxBytes: 50 << 20 })).done;
    assert.equal(run.status, 'Failed');
    assert.ok(run.containerId, 'the container was created');
    assert.deepEqual(await engine.client().listContainers({ all: true, filters: { label: [`mlw.run-id=${run.id}`] } }), []);
  });
});
