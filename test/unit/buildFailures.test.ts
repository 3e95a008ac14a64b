import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunStore } from '../../src/model/runs/runStore';
import { ExperimentRunner, RunRequest } from '../../src/runner/experimentRunner';
import { createTestWorkspace, docker, testBaseImage, write } from './support';

describe('Image build failures say why (real Docker builds)', () => {
  let ws: string;
  let runner: ExperimentRunner;
  const request = (script: string): RunRequest => ({ workspaceRoot: ws, script: path.join(ws, script), args: [], baseImage: testBaseImage(), snapshotMaxBytes: 50 * 1024 * 1024 });
  before(() => {
    ws = createTestWorkspace('mlw-build-fail-');
    runner = new ExperimentRunner(docker, new RunStore(ws));
  });

  it('pip that cannot reach its index: the reason says so, and build.txt is plain text', async function () {
    this.timeout(180_000);
    // An index nobody serves (port 9 inside the build container): pip fails as it does offline, after its retries.
    write(ws, 'offline/requirements.txt', `--index-url http://127.0.0.1:9/simple/\nrequests-oauthlib==1.3.1\n# ${Date.now()}\n`);
    write(ws, 'offline/train.py', 'print("never runs")\n');
    const run = await (await runner.submit(request('offline/train.py'))).done;
    assert.equal(run.status, 'Failed');
    const buildLog = path.relative(ws, runner.store.paths(run.id).buildLog);
    assert.equal(run.reason,
      'Image build failed: pip could not reach the package index http://127.0.0.1:9/simple/ (Connection refused) to install requests-oauthlib==1.3.1. ' +
      'Give the Docker host access to the index, point pip at one it can reach (--index-url in requirements.txt), or use an image that already has the packages ("image:" in a run configuration). ' +
      `Docker: The command '/bin/sh -c python -m pip install -r /tmp/mlw/requirements.txt' returned a non-zero code: 1 (build log: ${buildLog})`);
    const log = fs.readFileSync(runner.store.paths(run.id).buildLog, 'utf8');
    assert.match(log, /WARNING: Retrying .*Connection refused/);
    assert.match(log, /^ERROR: No matching distribution found for requests-oauthlib==1\.3\.1$/m);
    assert.ok(!/[\u001b\u009b]/.test(log), 'no terminal escapes (Docker wraps step stderr in \\x1b[91m … \\x1b[0m)');
  });

  it('a requirement pip cannot parse: its own error, not "non-zero code: 1"', async () => {
    const run = await (await runner.submit(request('broken-env/train.py'))).done;
    assert.equal(run.status, 'Failed');
    assert.match(run.reason ?? '', /^Image build failed: pip: Invalid requirement: 'this is not a valid requirement !!'.* Docker: The command .* returned a non-zero code: 1 \(build log: /);
  });
});
