import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunStore } from '../../src/model/runs/runStore';
import { parseJsonc } from '../../src/cli/settings';
import { REPO_ROOT } from '../harness/testWorkspace';
import { containersWithLabel, createTestWorkspace, docker, write } from './support';

const MLW = path.join(REPO_ROOT, 'bin', 'mlw');

function mlw(cwd: string, ...args: string[]) {
  const r = spawnSync(MLW, args, { cwd, encoding: 'utf8', env: { ...process.env, MLW_BASE_IMAGE: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mlw CLI (real Docker)', () => {
  let ws: string;
  before(() => {
    // The base image comes from the workspace's .vscode/settings.json, as the editor would read it.
    ws = createTestWorkspace('mlw-cli-');
  });

  it('mlw run streams the output and exits 0 for a completed run', () => {
    const r = mlw(ws, 'run', 'scripts/hello.py', '--', 'a', '--flag');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from the experiment\nargs: a --flag/);
    assert.match(r.stderr, /Completed/);
  });

  it("mlw run exits with the script's exit code and shows its stderr", () => {
    const r = mlw(ws, 'run', 'scripts/failing.py');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /something went wrong in training/);
  });

  it('mlw runs list and show, as text and JSON', () => {
    const list = mlw(ws, 'runs', 'list', '--json');
    assert.equal(list.code, 0);
    const runs = JSON.parse(list.stdout) as { id: string; status: string; script: string }[];
    assert.deepEqual(runs.slice(0, 2).map((r) => [r.script, r.status]), [['scripts/failing.py', 'Failed'], ['scripts/hello.py', 'Completed']]);
    const table = mlw(ws, 'runs', 'list');
    assert.match(table.stdout, /^ID\s+STATUS\s+SCRIPT/);
    assert.match(table.stdout, /Failed\s+scripts\/failing\.py/);
    const show = mlw(ws, 'runs', 'show', runs[1].id.slice(-4), '--json');
    assert.equal(JSON.parse(show.stdout).id, runs[1].id);
    assert.match(mlw(ws, 'runs', 'show', runs[0].id).stdout, /Exit code 3/);
  });

  it('gives actionable errors with exit code 2', () => {
    assert.match(mlw(ws, 'run').stderr, /needs a script/);
    assert.match(mlw(ws, 'bogus').stderr, /Unknown command "bogus"/);
    assert.match(mlw(ws, 'runs', 'show', 'nope').stderr, /No run matches "nope"/);
    const noDocker = mlw(ws, 'run', 'scripts/hello.py', '--docker-host', 'unix:///tmp/mlw-none.sock');
    assert.equal(noDocker.code, 2);
    assert.match(noDocker.stderr, /Docker is not reachable/);
    const empty = createTestWorkspace('mlw-cli-empty-');
    write(empty, '.vscode/settings.json', '{}');
    assert.match(mlw(empty, 'runs', 'list').stdout, /No runs yet/);
  });

  it('reads VS Code settings with comments and trailing commas', () => {
    assert.deepEqual(parseJsonc('{\n // c\n "mlw.baseImage": "a//b", /* x */ "n": [1,],\n}'), { 'mlw.baseImage': 'a//b', n: [1] });
  });

  it('mlw run --config applies a run configuration (script, args, env) and rejects an invalid one precisely', () => {
    write(ws, '.mlw/runconfigs/fast.yaml', 'script: scripts/hello.py\nargs: ["--from-config"]\nenv:\n  SEED: 5\ntimeout: 5m\n');
    const r = mlw(ws, 'run', '--config', 'fast');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /args: --from-config/);
    const run = JSON.parse(mlw(ws, 'runs', 'list', '--json').stdout)[0];
    assert.equal(run.options.configName, 'fast');
    assert.equal(run.options.timeoutSeconds, 300);
    write(ws, '.mlw/runconfigs/bad.yaml', 'script: scripts/hello.py\nresources:\n  memory: lots\n');
    const bad = mlw(ws, 'run', '--config', 'bad');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.yaml: resources\.memory: /);
    assert.match(mlw(ws, 'run', '--config', 'nope').stderr, /No run configuration "nope"/);
  });

  it('mlw runs logs, metrics, rerun and cancel', async () => {
    const run = mlw(ws, 'run', 'scripts/metrics.py');
    assert.equal(run.code, 0, run.stderr);
    const id = JSON.parse(mlw(ws, 'runs', 'list', '--json').stdout)[0].id as string;
    assert.match(mlw(ws, 'runs', 'logs', id).stdout, /logged metrics\ndone\n/);
    const metrics = JSON.parse(mlw(ws, 'runs', 'metrics', id, '--json').stdout);
    assert.deepEqual(metrics.metrics.loss.map((p: { value: number }) => p.value), [1, 0.5, 1 / 3]);
    assert.deepEqual(metrics.params, { lr: 0.1, layers: 3 });
    assert.match(mlw(ws, 'runs', 'metrics', id).stdout, /^METRIC\s+LAST\s+MIN\s+MAX\s+POINTS\nloss\s+0\.333/m);
    const rerun = mlw(ws, 'rerun', id);
    assert.equal(rerun.code, 0, rerun.stderr);
    const [child] = JSON.parse(mlw(ws, 'runs', 'list', '--json').stdout);
    assert.equal(child.parentId, id);

    // Cancel a run started by another mlw process.
    const slow = spawn(MLW, ['run', 'scripts/slow.py'], { cwd: ws, env: { ...process.env, MLW_BASE_IMAGE: '' } });
    const store = new RunStore(ws);
    let slowId: string | undefined;
    for (let i = 0; i < 300 && !slowId; i++) {
      await new Promise((r) => setTimeout(r, 100));
      slowId = (await store.list()).find((r) => r.script === 'scripts/slow.py' && r.status === 'Running')?.id;
    }
    assert.ok(slowId, 'slow run started');
    assert.equal(mlw(ws, 'runs', 'cancel', slowId!).code, 0);
    const code = await new Promise<number | null>((r) => slow.on('exit', r));
    assert.equal(code, 130, 'the process that started it exits as canceled');
    assert.equal((await store.get(slowId!))?.status, 'Canceled');
  });

  it('reattaches after the mlw process that ran it is killed: logs byte-identical to docker logs', async () => {
    const store = new RunStore(ws);
    const child = spawn(MLW, ['run', 'scripts/counter.py', '--', '60'], { cwd: ws, env: { ...process.env, MLW_BASE_IMAGE: '' }, stdio: 'ignore' });
    let id: string | undefined;
    for (let i = 0; i < 300; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const run = (await store.list()).find((r) => r.script === 'scripts/counter.py');
      if (run?.status === 'Running' && fs.existsSync(store.paths(run.id).logs) && fs.statSync(store.paths(run.id).logs).size > 0) {
        id = run.id;
        break;
      }
    }
    assert.ok(id, 'run started and wrote logs');
    child.kill('SIGKILL');
    const partial = fs.readFileSync(store.paths(id!).logs);
    // While nobody follows it, list catches the logs up but leaves it Running.
    const during = JSON.parse(mlw(ws, 'runs', 'list', '--json').stdout).find((r: { id: string }) => r.id === id);
    assert.equal(during.status, 'Running');
    assert.ok(fs.statSync(store.paths(id!).logs).size >= partial.length);
    const [info] = await containersWithLabel(`mlw.run-id=${id}`);
    assert.ok(info, 'the container outlives the killed CLI');
    await docker.getContainer(info.Id).wait();
    const fromDocker = (await docker.getContainer(info.Id).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    const expected: Buffer[] = [];
    new (require('../../src/runner/docker/logDemux').DockerLogDemuxer)((_s: string, p: Buffer) => expected.push(Buffer.from(p))).push(fromDocker);
    const list = mlw(ws, 'runs', 'list', '--json');
    const run = JSON.parse(list.stdout).find((r: { id: string }) => r.id === id);
    assert.equal(run.status, 'Completed', run.reason);
    const logs = fs.readFileSync(store.paths(id!).logs);
    assert.ok(partial.length < logs.length, 'the killed follower had only part of the logs');
    assert.ok(logs.equals(Buffer.concat(expected)), 'logs.txt is byte-identical to docker logs');
    assert.deepEqual(await containersWithLabel(`mlw.run-id=${id}`), []);
  });
});
