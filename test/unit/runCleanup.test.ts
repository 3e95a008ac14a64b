import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunStore } from '../../src/model/runs/runStore';
import { ExperimentRunner, RunRequest } from '../../src/runner/experimentRunner';
import { deleteRuns, folderBytes, planCleanup } from '../../src/runner/runCleanup';
import { createTestWorkspace, docker, testBaseImage, write } from './support';

describe('Run clean-up and deletion (real Docker)', () => {
  let ws: string;
  let runner: ExperimentRunner;
  const request = (script: string): RunRequest => ({ workspaceRoot: ws, script: path.join(ws, script), args: [], baseImage: testBaseImage(), snapshotMaxBytes: 50 * 1024 * 1024 });
  before(() => {
    ws = createTestWorkspace('mlw-clean-');
    runner = new ExperimentRunner(docker, new RunStore(ws));
  });

  it('plans by status and age, keeps starred and active runs, and counts the bytes each frees', async () => {
    const ok = await (await runner.submit(request('scripts/hello.py'))).done;
    const failed = await (await runner.submit(request('scripts/failing.py'))).done;
    const starredFailed = await (await runner.submit(request('scripts/failing.py'))).done;
    await runner.store.update(starredFailed.id, { starred: true });
    const plan = await planCleanup(docker, runner.store, { statuses: ['Failed'] });
    assert.deepEqual(plan.runs.map((r) => r.id), [failed.id]);
    assert.equal(plan.runs[0].bytes, await folderBytes(runner.store.paths(failed.id).dir));
    assert.ok(plan.bytes >= plan.runs[0].bytes && plan.runs[0].bytes > 0);
    const future = new Date(Date.now() + 10 * 86_400_000);
    const old = await planCleanup(docker, runner.store, { olderThanDays: 5, now: future });
    assert.deepEqual(old.runs.map((r) => r.id).sort(), [ok.id, failed.id].sort());
  });

  it('deletes runs and the environment image only when no remaining run uses it', async () => {
    write(ws, 'env/train.py', 'print("env")\n');
    write(ws, 'env/requirements.txt', `joblib\n# cleanup ${Date.now()}\n`);
    const a = await (await runner.submit(request('env/train.py'))).done;
    const b = await (await runner.submit(request('env/train.py'))).done;
    assert.equal(a.imageId, b.imageId);
    const first = await deleteRuns(docker, runner.store, [a.id]);
    assert.deepEqual(first.deleted, [a.id]);
    assert.deepEqual(first.imagesRemoved, [], 'b still uses the image');
    assert.equal(fs.existsSync(runner.store.paths(a.id).dir), false);
    assert.ok(await docker.getImage(b.imageId!).inspect());
    const second = await deleteRuns(docker, runner.store, [b.id]);
    assert.deepEqual(second.imagesRemoved, [b.environment!.imageTag]);
    await assert.rejects(docker.getImage(b.imageId!).inspect(), /no such image/i);
    assert.ok(!(await runner.store.listSummaries()).some((s) => s.id === a.id || s.id === b.id));
  });

  it('deletes a run whose run.json cannot be read (its record says nothing, its containers are checked)', async () => {
    const run = await (await runner.submit(request('scripts/hello.py'))).done;
    fs.writeFileSync(runner.store.paths(run.id).record, '{"id": "truncated');
    const result = await deleteRuns(docker, runner.store, [run.id]);
    assert.deepEqual(result.deleted, [run.id]);
    assert.equal(fs.existsSync(runner.store.paths(run.id).dir), false);
  });

  it('refuses to delete an active run', async () => {
    const handle = await runner.submit(request('scripts/slow.py'));
    for (let i = 0; i < 100 && (await runner.store.get(handle.id))?.status !== 'Running'; i++) await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(deleteRuns(docker, runner.store, [handle.id]), /cancel it before deleting it/);
    await handle.cancel();
    await handle.done;
  });
});
