import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserFacingError } from '../../src/model/common/errors';
import { RunStore } from '../../src/model/runs/runStore';
import { connectDocker } from '../../src/runner/docker/client';
import { ExperimentRunner, RunRequest } from '../../src/runner/experimentRunner';
import { containersWithLabel, createTestWorkspace, docker, testBaseImage, write } from './support';

describe('ExperimentRunner (real Docker, real git)', () => {
  let ws: string;
  let runner: ExperimentRunner;
  const request = (script: string, args: string[] = []): RunRequest => ({
    workspaceRoot: ws,
    script: path.join(ws, script),
    args,
    baseImage: testBaseImage(),
    snapshotMaxBytes: 50 * 1024 * 1024,
  });
  before(() => {
    ws = createTestWorkspace('mlw-runner-');
    runner = new ExperimentRunner(docker, new RunStore(ws));
  });

  it('runs a script to Completed: args, live output, logs.txt, lineage, snapshot, outputs, container removed', async () => {
    write(ws, 'scripts/save.py', [
      'import os, sys',
      'print("argv", sys.argv[1:])',
      'print("warning on stderr", file=sys.stderr)',
      'print("uid", os.getuid())',
      'open(os.path.join(os.environ["MLW_OUTPUTS"], "result.txt"), "w").write("saved")',
      'open("outputs/relative.txt", "w").write("also saved")',
      'try:',
      '    open("/workspace/scripts/hack.txt", "w")',
      'except OSError as e:',
      '    print("snapshot is read-only:", e.errno)',
    ].join('\n'));
    const live: string[] = [];
    const statuses: string[] = [];
    const handle = await runner.submit(request('scripts/save.py', ['--lr', '0.1']), {
      onOutput: (_id, stream, chunk) => live.push(`${stream}:${chunk}`),
      onStatus: (r) => statuses.push(r.status),
    });
    const run = await handle.done;
    assert.equal(run.status, 'Completed', run.reason);
    assert.deepEqual(statuses, ['Queued', 'Running', 'Completed']);
    assert.deepEqual(run.args, ['--lr', '0.1']);
    const paths = runner.store.paths(run.id);
    const logs = fs.readFileSync(paths.logs, 'utf8');
    assert.match(logs, /argv \['--lr', '0.1'\]/);
    assert.match(logs, /warning on stderr/);
    assert.match(logs, /snapshot is read-only: 30/);
    assert.doesNotMatch(logs, /uid 0\b/, 'not root in the container');
    assert.ok(live.some((l) => l.startsWith('stderr:warning on stderr')));
    assert.equal(fs.readFileSync(path.join(paths.outputs, 'result.txt'), 'utf8'), 'saved');
    assert.equal(fs.readFileSync(path.join(paths.outputs, 'relative.txt'), 'utf8'), 'also saved');
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ws, encoding: 'utf8' }).trim();
    assert.deepEqual(run.git, { commit: head, branch: 'main', dirty: true, untracked: ['scripts/save.py'] });
    assert.equal(run.environment?.kind, 'base');
    assert.equal(run.imageId, (await docker.getImage(testBaseImage()).inspect()).Id);
    assert.ok(run.snapshot && run.snapshot.files > 3);
    assert.deepEqual(await containersWithLabel(`mlw.run-id=${run.id}`), []);
  });

  it('mounts neither the Docker socket nor the home folder', async () => {
    write(ws, 'scripts/probe.py', 'import os\nprint("sock", os.path.exists("/var/run/docker.sock"))\nprint("home", os.environ["HOME"])\n');
    const run = await (await runner.submit(request('scripts/probe.py'))).done;
    const logs = fs.readFileSync(runner.store.paths(run.id).logs, 'utf8');
    assert.match(logs, /sock False/);
    assert.match(logs, /home \/tmp/);
  });

  it('records Failed with exit code and reason for a failing script', async () => {
    const run = await (await runner.submit(request('scripts/failing.py'))).done;
    assert.equal(run.status, 'Failed');
    assert.equal(run.exitCode, 3);
    assert.equal(run.reason, 'Script exited with code 3.');
    assert.match(fs.readFileSync(runner.store.paths(run.id).logs, 'utf8'), /something went wrong in training/);
  });

  it('cancels a running script: Canceled, container gone, output so far kept', async () => {
    const handle = await runner.submit(request('scripts/slow.py'));
    const logFile = runner.store.paths(handle.id).logs;
    for (let i = 0; i < 300 && !(fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('slow run started')); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = Date.now();
    await handle.cancel();
    const run = await handle.done;
    assert.equal(run.status, 'Canceled');
    assert.ok(Date.now() - started < 8000, 'stops promptly (init forwards SIGTERM)');
    assert.match(fs.readFileSync(logFile, 'utf8'), /slow run started/);
    assert.deepEqual(await containersWithLabel(`mlw.run-id=${run.id}`), []);
  });

  it('fails the run and keeps the build log when the image build fails', async () => {
    const run = await (await runner.submit(request('broken-env/train.py'))).done;
    assert.equal(run.status, 'Failed');
    assert.match(run.reason ?? '', /^Image build failed: .*build log: \.mlw\/runs\/.*\/build\.txt/);
    assert.match(fs.readFileSync(runner.store.paths(run.id).buildLog, 'utf8'), /requirement/i);
    assert.equal(fs.existsSync(runner.store.paths(run.id).logs), false, 'the script never ran');
  });

  it('refuses bad input before recording a run', async () => {
    const before = (await runner.store.list()).length;
    await assert.rejects(runner.submit(request('README.md')), (e: Error) => e instanceof UserFacingError && /Python scripts/.test(e.message));
    await assert.rejects(runner.submit(request('scripts/missing.py')), /does not exist/);
    await assert.rejects(runner.submit({ ...request('scripts/hello.py'), baseImage: 'mlw-test/absent:0' }), /docker pull mlw-test\/absent:0/);
    const unreachable = new ExperimentRunner(connectDocker('unix:///tmp/mlw-nothing.sock'), runner.store);
    await assert.rejects(unreachable.submit(request('scripts/hello.py')), /Docker is not reachable.*Start Docker/);
    await assert.rejects(runner.submit({ ...request('scripts/hello.py'), snapshotMaxBytes: 10 }), /above the .* limit/);
    assert.equal((await runner.store.list()).length, before);
  });

  it('refuses a script that the ignore files leave out of the snapshot', async () => {
    write(ws, 'data/train.py', 'print(1)\n');
    await assert.rejects(runner.submit(request('data/train.py')), /excluded from the snapshot/);
  });
});
