import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { UserFacingError } from '../../src/model/common/errors';
import { EnvironmentRequest, EnvironmentResolver, detectEnvironment, dockerfileSources } from '../../src/runner/docker/environment';
import { docker, removeImages, tempDir, testBaseImage, write } from './support';

describe('environment images (real Docker)', () => {
  const tagged: string[] = [];
  after(() => removeImages(tagged));

  function request(root: string, scriptDir = '') {
    const log: string[] = [];
    return { req: { baseImage: testBaseImage(), root, workspaceRoot: root, scriptDir, contextDir: path.join(root, '.ctx'), onBuildOutput: (t: string) => log.push(t) }, log };
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

describe('environment resolution order (real Docker)', () => {
  const tagged: string[] = [];
  after(() => removeImages(tagged));

  function req(root: string, extra: Partial<EnvironmentRequest> = {}): EnvironmentRequest {
    return { baseImage: testBaseImage(), root, workspaceRoot: root, scriptDir: '', contextDir: path.join(tempDir(), 'ctx'), onBuildOutput: () => undefined, ...extra };
  }

  it('detects in order: image, Dockerfile, .mlw/Dockerfile, environment.yml, requirements.txt, base', () => {
    const root = tempDir();
    assert.deepEqual(detectEnvironment(root, root, ''), { kind: 'base' });
    write(root, 'requirements.txt', 'joblib\n');
    assert.deepEqual(detectEnvironment(root, root, ''), { kind: 'requirements', file: 'requirements.txt' });
    write(root, 'sub/environment.yml', 'dependencies: []\n');
    assert.deepEqual(detectEnvironment(root, root, 'sub'), { kind: 'conda', file: 'sub/environment.yml' });
    write(root, '.mlw/Dockerfile', 'FROM scratch\n');
    assert.deepEqual(detectEnvironment(root, root, 'sub'), { kind: 'dockerfile', file: '.mlw/Dockerfile' });
    write(root, 'Dockerfile', 'FROM scratch\n');
    assert.deepEqual(detectEnvironment(root, root, 'sub'), { kind: 'dockerfile', file: 'Dockerfile' });
    assert.deepEqual(detectEnvironment(root, root, 'sub', 'some/image:1'), { kind: 'image' });
  });

  it('lists the files a Dockerfile copies (they are part of the environment hash)', () => {
    assert.deepEqual(dockerfileSources('FROM x\nCOPY requirements.txt setup.cfg /app/\nADD ["conf/a b.ini", "/etc/"]\nCOPY --from=build /out /out\nCOPY --chown=1:1 src/ /src\n'), [
      'requirements.txt', 'setup.cfg', 'conf/a b.ini', 'src',
    ]);
    assert.deepEqual(dockerfileSources('COPY *.txt /x/\n'), ['*']);
  });

  it('builds a project Dockerfile once, rebuilds when a copied file changes, not when other code does', async () => {
    const resolver = new EnvironmentResolver(docker);
    const root = tempDir();
    write(root, 'Dockerfile', `FROM ${testBaseImage()}\nCOPY extra.txt /opt/extra.txt\nRUN cat /opt/extra.txt\n`);
    write(root, 'extra.txt', `v1 ${Date.now()}\n`);
    write(root, 'train.py', 'print(1)\n');
    const first = await resolver.resolve(req(root));
    tagged.push(first.imageTag);
    assert.equal(first.kind, 'dockerfile');
    assert.equal(first.built, true);
    write(root, 'train.py', 'print(2)\n');
    assert.equal((await resolver.resolve(req(root))).built, false, 'code outside COPY does not rebuild');
    write(root, 'extra.txt', `v2 ${Date.now()}\n`);
    const second = await resolver.resolve(req(root));
    tagged.push(second.imageTag);
    assert.equal(second.built, true);
    assert.equal(resolver.buildCount, 2);
  });

  it('builds .mlw/Dockerfile from the workspace', async () => {
    const resolver = new EnvironmentResolver(docker);
    const ws = tempDir();
    const snap = tempDir();
    write(ws, '.mlw/Dockerfile', `FROM ${testBaseImage()}\nRUN echo mlw-dockerfile-${Date.now()} > /opt/marker\n`);
    const env = await resolver.resolve(req(snap, { workspaceRoot: ws }));
    tagged.push(env.imageTag);
    assert.equal(env.kind, 'dockerfile');
    assert.equal(env.file, '.mlw/Dockerfile');
  });

  it('rebuilds only the dependency layer when requirements.txt changes', async () => {
    const resolver = new EnvironmentResolver(docker);
    const root = tempDir();
    write(root, 'requirements.txt', `joblib\n# layer-a ${Date.now()}\n`);
    const a = await resolver.resolve(req(root));
    write(root, 'requirements.txt', `joblib\n# layer-b ${Date.now()}\n`);
    const b = await resolver.resolve(req(root));
    tagged.push(a.imageTag, b.imageTag);
    const base = (await docker.getImage(testBaseImage()).inspect()).RootFS.Layers ?? [];
    const layers = (await docker.getImage(b.imageId).inspect()).RootFS.Layers ?? [];
    assert.deepEqual(layers.slice(0, base.length), base, 'base layers are reused as they are');
    assert.ok(layers.length - base.length <= 2, `only the requirements layers are new (${layers.length - base.length})`);
  });

  it('says clearly when environment.yml needs conda and the base has none', async () => {
    const root = tempDir();
    write(root, 'environment.yml', `name: x\ndependencies: [python]\n# ${Date.now()}\n`);
    await assert.rejects(new EnvironmentResolver(docker).resolve(req(root)), /environment\.yml needs a conda base image.*has no conda, mamba or micromamba/);
  });

  it('builds environment.yml with the conda of the base image', async () => {
    const condaBase = `mlw-test/fake-conda:${Date.now()}`;
    tagged.push(condaBase);
    execFileSync('docker', ['build', '-q', '-t', condaBase, '-'], {
      input: `FROM ${testBaseImage()}\nRUN printf '#!/bin/sh\\necho "fake conda $*" >> /opt/conda-called\\n' > /usr/local/bin/conda && chmod +x /usr/local/bin/conda\n`,
    });
    const root = tempDir();
    write(root, 'environment.yml', `name: x\ndependencies: [python]\n# ${Date.now()}\n`);
    const env = await new EnvironmentResolver(docker).resolve(req(root, { baseImage: condaBase }));
    tagged.push(env.imageTag);
    assert.equal(env.kind, 'conda');
    assert.equal(env.built, true);
    const out = execFileSync('docker', ['run', '--rm', env.imageId, 'cat', '/opt/conda-called'], { encoding: 'utf8' });
    assert.match(out, /fake conda env update -n base -f \/tmp\/mlw\/environment\.yml/);
  });

  it('uses an explicit image without building, and explains a missing one', async () => {
    const resolver = new EnvironmentResolver(docker);
    const root = tempDir();
    write(root, 'requirements.txt', 'joblib\n');
    const env = await resolver.resolve(req(root, { image: testBaseImage() }));
    assert.equal(env.kind, 'image');
    assert.equal(env.built, false);
    assert.equal(resolver.buildCount, 0);
    await assert.rejects(resolver.resolve(req(root, { image: 'mlw-test/nope:1' })), /Image "mlw-test\/nope:1".*docker pull/);
  });
});
