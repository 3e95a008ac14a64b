import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { UserFacingError } from '../../src/model/errors';
import { EnvironmentResolver } from '../../src/runner/environment';
import { docker, removeImages, tempDir, testBaseImage, write } from './support';

describe('environment images (real Docker)', () => {
  const tagged: string[] = [];
  after(() => removeImages(tagged));

  function request(root: string, scriptDir = '') {
    const log: string[] = [];
    return { req: { baseImage: testBaseImage(), root, scriptDir, contextDir: path.join(root, '.ctx'), onBuildOutput: (t: string) => log.push(t) }, log };
  }

  it('uses the base image as is when there is no requirements.txt', async () => {
    const resolver = new EnvironmentResolver(docker);
    const root = tempDir();
    const env = await resolver.resolve(request(root).req);
    assert.equal(env.kind, 'base');
    assert.equal(env.imageId, (await docker.getImage(testBaseImage()).inspect()).Id);
    assert.equal(resolver.buildCount, 0);
  });

  it('builds once per content: unchanged requirements hit the cache, changed ones rebuild', async () => {
    const resolver = new EnvironmentResolver(docker);
    const root = tempDir();
    // Packages the base already has: pip is satisfied without any network.
    write(root, 'requirements.txt', `joblib\n# cache-test ${Date.now()}\n`);
    const first = await resolver.resolve(request(root).req);
    tagged.push(first.imageTag);
    assert.equal(first.built, true);
    assert.equal(resolver.buildCount, 1);
    assert.match(first.imageTag, /^mlw-env:[0-9a-f]{16}$/);

    const again = await resolver.resolve(request(root).req);
    assert.equal(again.built, false);
    assert.equal(again.imageId, first.imageId);
    assert.equal(resolver.buildCount, 1, 'no second build for the same content');

    // A fresh resolver (a new VS Code window, the CLI) finds the same image by its content tag.
    const other = new EnvironmentResolver(docker);
    assert.equal((await other.resolve(request(root).req)).built, false);
    assert.equal(other.buildCount, 0);

    write(root, 'requirements.txt', `joblib\nnumpy\n# cache-test ${Date.now()}\n`);
    const changed = await resolver.resolve(request(root).req);
    tagged.push(changed.imageTag);
    assert.equal(changed.built, true);
    assert.notEqual(changed.imageTag, first.imageTag);
    assert.equal(resolver.buildCount, 2);
  });

  it('shares one build between concurrent runs of the same environment', async () => {
    const resolver = new EnvironmentResolver(docker);
    const root = tempDir();
    write(root, 'requirements.txt', `joblib\n# concurrent ${Date.now()}\n`);
    const [a, b] = await Promise.all([resolver.resolve(request(root).req), resolver.resolve(request(root).req)]);
    tagged.push(a.imageTag);
    assert.equal(a.imageId, b.imageId);
    assert.equal(resolver.buildCount, 1);
  });

  it("prefers the script folder's requirements.txt over the root's", async () => {
    const resolver = new EnvironmentResolver(docker);
    const root = tempDir();
    write(root, 'requirements.txt', `joblib\n# root ${Date.now()}\n`);
    write(root, 'sub/requirements.txt', `numpy\n# sub ${Date.now()}\n`);
    const env = await resolver.resolve(request(root, 'sub').req);
    tagged.push(env.imageTag);
    assert.equal(env.file, 'sub/requirements.txt');
  });

  it('explains how to get a missing base image', async () => {
    const resolver = new EnvironmentResolver(docker);
    const { req } = request(tempDir());
    const err = await resolver.resolve({ ...req, baseImage: 'mlw-test/absent:0' }).then(() => undefined, (e: Error) => e);
    assert.ok(err instanceof UserFacingError);
    assert.match(err.message, /docker pull mlw-test\/absent:0/);
  });
});
