import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunOptions } from '../../src/model/runs/run';
import { RunStore } from '../../src/model/runs/runStore';
import { ExperimentRunner, RunRequest } from '../../src/runner/experimentRunner';
import { describeEngineError } from '../../src/runner/docker/engineErrors';
import { completedRunRecord } from '../harness/runFixtures';
import { containersWithLabel, createTestWorkspace, docker, tempDir, testBaseImage, write } from './support';

/** Builds a throwaway image (no network: the shared engine's bridge is not needed) and returns its tag and id. */
async function buildImage(dockerfile: string, files: Record<string, string> = {}): Promise<{ tag: string; id: string }> {
  const dir = tempDir('mlw-img-');
  write(dir, 'Dockerfile', dockerfile);
  for (const [name, text] of Object.entries(files)) write(dir, name, text);
  const tag = `mlw-test-reasons:${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const stream = await docker.buildImage({ context: dir, src: ['Dockerfile', ...Object.keys(files)] }, { t: tag, networkmode: 'none', rm: true, forcerm: true });
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
    const failed = out?.find((e) => e.error);
    if (err || failed) reject(err ?? new Error(failed!.error));
    else resolve();
  }));
  return { tag, id: (await docker.getImage(tag).inspect()).Id };
}

describe('Run reasons that say what to change (real Docker)', () => {
  let ws: string;
  let runner: ExperimentRunner;
  const images: string[] = [];
  const request = (script: string, options: RunOptions): RunRequest => ({
    workspaceRoot: ws,
    script: path.join(ws, script),
    args: [],
    baseImage: testBaseImage(),
    snapshotMaxBytes: 50 * 1024 * 1024,
    // No network is needed, so none is asked for.
    options: { network: 'none', ...options },
  });
  before(() => {
    ws = createTestWorkspace('mlw-reasons-');
    runner = new ExperimentRunner(docker, new RunStore(ws));
  });
  after(async () => {
    // Only the images this test built, by id.
    for (const id of images) await docker.getImage(id).remove({ force: true }).catch(() => undefined);
  });

  it('an image without python: says so, not "exit code 127"', async () => {
    const scratch = await buildImage('FROM scratch\nCOPY marker /marker\n', { marker: 'no python here\n' });
    images.push(scratch.id);
    const run = await (await runner.submit(request('scripts/hello.py', { image: scratch.tag, configName: 'bare' }))).done;
    assert.equal(run.status, 'Failed');
    assert.equal(run.exitCode, 127);
    assert.equal(run.reason,
      `The image "${scratch.tag}" ("image" in run configuration "bare") has no \`python\` on its PATH, so the script never started (exit code 127). ` +
      'Use an image with Python; an image with only python3 needs a `python` on its PATH too (in a Dockerfile: RUN ln -s "$(command -v python3)" /usr/local/bin/python).');

    // The commoner case: Python is there as python3 only.
    const python3Only = await buildImage(`FROM ${testBaseImage()}\nRUN rm -f /usr/bin/python /usr/local/bin/python\n`);
    images.push(python3Only.id);
    const second = await (await runner.submit(request('scripts/hello.py', { image: python3Only.tag }))).done;
    assert.match(second.reason ?? '', new RegExp(`^The image "${python3Only.tag}" \\(the run configuration's "image"\\) has no \`python\` on its PATH`));

    // A script that itself exits 127 is not mistaken for a missing python.
    write(ws, 'scripts/exit127.py', 'import sys\nsys.exit(127)\n');
    const own = await (await runner.submit(request('scripts/exit127.py', {}))).done;
    assert.equal(own.reason, 'Script exited with code 127.');
  });

  it('a resource the engine cannot give: names the run-config key and the engine limit', async () => {
    const { NCPU } = (await docker.info()) as { NCPU: number };
    const many = await (await runner.submit(request('scripts/hello.py', { configName: 'big', resources: { cpus: 64 } }))).done;
    assert.equal(many.status, 'Failed');
    assert.equal(many.reason, `resources.cpus is 64 in run configuration "big", but this Docker engine has ${NCPU} CPU${NCPU === 1 ? '' : 's'}: resources.cpus must be from 0.01 to ${NCPU.toFixed(2)}.`);
    assert.deepEqual(await containersWithLabel(`mlw.run-id=${many.id}`), [], 'no container left behind');

    const tiny = await (await runner.submit(request('scripts/hello.py', { resources: { cpus: 0.001 } }))).done;
    assert.equal(tiny.status, 'Failed');
    assert.equal(tiny.reason, 'resources.cpus is 0.001, below what this Docker engine can limit a container to: resources.cpus must be at least 0.01.');
    await Promise.all((await containersWithLabel(`mlw.run-id=${tiny.id}`)).map((c) => docker.getContainer(c.Id).remove({ force: true })));
    assert.ok(fs.existsSync(runner.store.paths(tiny.id).dir));
  });

  it("translates the engine's own refusals that the run configuration's checks cannot catch ahead", async () => {
    // What the engine says to a container asking for a GPU driver it lacks, or memory below its minimum (the
    // run configuration refuses the latter earlier; a rerun of an old record can still ask for it).
    const refusal = async (hostConfig: Record<string, unknown>): Promise<Error> => {
      let container: Awaited<ReturnType<typeof docker.createContainer>> | undefined;
      try {
        container = await docker.createContainer({ Image: testBaseImage(), Cmd: ['true'], HostConfig: { NetworkMode: 'none', ...hostConfig } });
        await container.start();
        throw new Error('the engine accepted it');
      } catch (err) {
        return err as Error;
      } finally {
        await container?.remove({ force: true }).catch(() => undefined);
      }
    };
    const record = completedRunRecord('20261202-000000-beef', { options: { configName: 'gpu', resources: { gpus: 1, memoryBytes: 1024 * 1024 } } });
    const gpu = await refusal({ DeviceRequests: [{ Driver: 'nvidia', Count: 1, Capabilities: [['gpu']] }] });
    assert.equal(describeEngineError(gpu, record), 'resources.gpus is 1 in run configuration "gpu", but this Docker engine has no "nvidia" device driver. Install the NVIDIA Container Toolkit on the Docker host, or remove resources.gpus to run on CPU.');
    const memory = await refusal({ Memory: 1024 * 1024, MemorySwap: 1024 * 1024 });
    assert.equal(describeEngineError(memory, record), 'resources.memory (1.0 MB) in run configuration "gpu" is below this Docker engine\'s minimum: resources.memory must be at least 6 MB.');
    assert.equal(describeEngineError(new Error('not from Docker'), record), undefined);
  });
});
