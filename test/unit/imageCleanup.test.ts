import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { RunStore } from '../../src/model/runs/runStore';
import { ExperimentRunner, RunRequest } from '../../src/runner/experimentRunner';
import { deleteRuns, describeDeletion, planCleanup } from '../../src/runner/runCleanup';
import { holdTag } from '../../src/runner/docker/imageHolds';
import { createTestWorkspace, docker, tempDir, testBaseImage, write } from './support';

/**
 * Delete and Clean Up judge an image by its own labels and tags, never by what a run record names: an image
 * another workspace's runs use stays, and so does any image ML Workbench did not build.
 */
describe('Image removal on Delete and Clean Up (real Docker)', () => {
  const nonce = `${process.pid}-${Date.now()}`;
  const created: string[] = [];
  const request = (ws: string, script: string): RunRequest => ({
    workspaceRoot: ws,
    script: path.join(ws, script),
    args: [],
    baseImage: testBaseImage(),
    snapshotMaxBytes: 50 * 1024 * 1024,
    options: { network: 'none' },
  });
  /** A workspace whose Dockerfile environment (no RUN step, so no network is needed to build it) is the same in every copy. */
  function dockerfileWorkspace(prefix: string, variant: string): string {
    const ws = createTestWorkspace(prefix);
    write(ws, 'Dockerfile', `FROM ${testBaseImage()}\nLABEL test.nonce="${nonce}-${variant}"\nCOPY train.py /opt/mlw-test/train.py\n`);
    write(ws, 'train.py', 'print("shared environment")\n');
    return ws;
  }
  after(async () => {
    // Only what these tests made, by id.
    for (const id of created) await docker.getImage(id).remove({ force: true }).catch(() => undefined);
  });

  it("keeps an environment image another workspace's runs use, and removes it with the last of them", async () => {
    const a = new ExperimentRunner(docker, new RunStore(dockerfileWorkspace('mlw-img-a-', 'shared')));
    const b = new ExperimentRunner(docker, new RunStore(dockerfileWorkspace('mlw-img-b-', 'shared')));
    const runA = await (await a.submit(request(a.store.workspaceRoot, 'train.py'))).done;
    const runB = await (await b.submit(request(b.store.workspaceRoot, 'train.py'))).done;
    assert.equal(runA.status, 'Completed', runA.reason);
    assert.equal(runB.environment?.built, false, 'the second workspace reuses the image');
    assert.equal(runA.imageId, runB.imageId);
    created.push(runA.imageId!);
    const tag = runA.environment!.imageTag;
    const tags = (await docker.getImage(runA.imageId!).inspect()).RepoTags;
    assert.deepEqual(tags.sort(), [tag, holdTag(tag, a.store.workspaceRoot), holdTag(tag, b.store.workspaceRoot)].sort());

    const plan = await planCleanup(docker, a.store, { statuses: ['Completed'] });
    assert.deepEqual(plan.images, [], 'the plan does not count an image it will keep');
    assert.deepEqual(plan.imagesKept, [{ tag, reason: 'runs of 1 other workspace use it' }]);
    const first = await deleteRuns(docker, a.store, [runA.id]);
    assert.equal(describeDeletion(first), `Deleted 1 run. Kept image ${tag}: runs of 1 other workspace use it.`);
    assert.deepEqual((await docker.getImage(runA.imageId!).inspect()).RepoTags.sort(), [tag, holdTag(tag, b.store.workspaceRoot)].sort());

    const second = await deleteRuns(docker, b.store, [runB.id]);
    assert.equal(describeDeletion(second), `Deleted 1 run and 1 unused image (${tag}).`);
    await assert.rejects(docker.getImage(runB.imageId!).inspect(), /no such image/i);
  });

  it("never removes an image ML Workbench did not build, whatever run.json says, nor one a user tagged", async () => {
    const ws = dockerfileWorkspace('mlw-img-user-', 'user');
    const runner = new ExperimentRunner(docker, new RunStore(ws));
    // A user's image (no ML Workbench label) that a run record claims as its environment image.
    const dir = tempDir('mlw-user-image-');
    write(dir, 'Dockerfile', `FROM scratch\nCOPY marker /marker\n`);
    write(dir, 'marker', nonce);
    const userTag = `mlw-test-user-image:${nonce}`;
    await new Promise<void>((resolve, reject) =>
      docker.buildImage({ context: dir, src: ['Dockerfile', 'marker'] }, { t: userTag }).then((s) => docker.modem.followProgress(s, (e: Error | null) => (e ? reject(e) : resolve())), reject),
    );
    const userImage = (await docker.getImage(userTag).inspect()).Id;
    created.push(userImage);
    const claimed = await (await runner.submit(request(ws, 'train.py'))).done;
    created.push(claimed.imageId!);
    const envTag = claimed.environment!.imageTag;
    await runner.store.update(claimed.id, { imageId: userImage });
    const forged = await deleteRuns(docker, runner.store, [claimed.id]);
    assert.equal(describeDeletion(forged), `Deleted 1 run. Kept image ${envTag}: not built by ML Workbench (it has no mlw.env-hash label), so it is never removed.`);
    assert.ok(await docker.getImage(userImage).inspect(), 'the user image is still there');

    // An environment image the user also tagged as their own.
    const run = await (await runner.submit(request(ws, 'train.py'))).done;
    await docker.getImage(run.imageId!).tag({ repo: 'mlw-test-user-image', tag: `kept-${nonce}` });
    const tagged = await deleteRuns(docker, runner.store, [run.id]);
    assert.equal(describeDeletion(tagged), `Deleted 1 run. Kept image ${envTag}: also tagged mlw-test-user-image:kept-${nonce}, which ML Workbench did not make.`);
    assert.ok(await docker.getImage(run.imageId!).inspect());

    // An image from before workspaces held their images: no one can tell who else uses it, so it stays.
    await docker.getImage(`mlw-test-user-image:kept-${nonce}`).remove();
    const old = await (await runner.submit(request(ws, 'train.py'))).done;
    await docker.getImage(holdTag(envTag, ws)!).remove();
    const legacy = await deleteRuns(docker, runner.store, [old.id]);
    const short = old.imageId!.replace('sha256:', '').slice(0, 12);
    assert.equal(describeDeletion(legacy), `Deleted 1 run. Kept image ${envTag}: it has no record of the workspaces that use it (built by an earlier ML Workbench), so runs elsewhere may need it; "docker rmi ${short}" removes it when none does.`);
  });
});
