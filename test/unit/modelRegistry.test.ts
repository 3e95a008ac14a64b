import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelRegistry } from '../../src/model/models/modelRegistry';
import { RunStore } from '../../src/model/runs/runStore';
import { completedRunRecord } from '../harness/runFixtures';
import { REPO_ROOT } from '../harness/testWorkspace';
import { createTestWorkspace, write } from './support';

const MLW = path.join(REPO_ROOT, 'bin', 'mlw');

function mlw(cwd: string, ...args: string[]) {
  const r = spawnSync(MLW, args, { cwd, encoding: 'utf8', env: { ...process.env, MLW_BASE_IMAGE: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(r: { code: number | null; stdout: string; stderr: string }): T {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

const TRAIN = `import argparse, os, pickle
import mlw
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
p = argparse.ArgumentParser(); p.add_argument("--C", type=float, default=1.0); a = p.parse_args()
X, y = load_iris(return_X_y=True)
m = LogisticRegression(C=a.C, max_iter=300).fit(X, y)
mlw.log_params({"C": a.C})
mlw.log_metric("accuracy", float(m.score(X, y)), goal="max")
os.makedirs("outputs/bundle", exist_ok=True)
with open("outputs/model.pkl", "wb") as f: pickle.dump(m, f)
with open("outputs/bundle/model.pkl", "wb") as f: pickle.dump(m, f)
with open("outputs/bundle/labels.txt", "w") as f: f.write("setosa versicolor virginica")
`;

interface Version { name: string; version: number; runId?: string; contentHash: string; files: { path: string; sha256: string }[]; source: Record<string, unknown>; tags: Record<string, string>; aliases?: string[] }

describe('model registry: register, list, show, alias, delete (mlw model …, a real run on Docker)', function () {
  this.timeout(180_000);
  let ws: string;
  let runId: string;

  before(() => {
    ws = createTestWorkspace('mlw-models-');
    write(ws, 'train.py', TRAIN);
    const run = mlw(ws, 'run', 'train.py', '--', '--C', '0.5');
    assert.equal(run.code, 0, run.stderr);
    runId = json<{ id: string }[]>(mlw(ws, 'runs', 'list', '--json'))[0].id;
  });

  after(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('registers a run output as version 1 with the run\'s lineage, and the same bytes again as version 2 stored once', () => {
    const v1 = json<Version>(mlw(ws, 'model', 'register', runId, 'outputs/model.pkl', '--name', 'iris', '--tag', 'team=vision', '--tag', 'data=iris', '--description', 'first try', '--json'));
    assert.equal(v1.name, 'iris');
    assert.equal(v1.version, 1);
    assert.equal(v1.runId, runId);
    assert.deepEqual(v1.tags, { team: 'vision', data: 'iris' });
    const src = v1.source as { kind: string; script: string; commit: string; dirty: boolean; params: Record<string, unknown>; metrics: Record<string, number>; image: { tag: string } };
    assert.equal(src.kind, 'run');
    assert.equal(src.script, 'train.py');
    assert.equal(src.commit, execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ws, encoding: 'utf8' }).trim());
    assert.equal(src.dirty, true, 'train.py was not committed');
    assert.deepEqual(src.params, { C: 0.5 });
    assert.ok(src.metrics.accuracy > 0.9, JSON.stringify(src.metrics));
    assert.ok(src.image.tag, 'the environment image is kept for the scoring image');
    // Written as the script saw it or relative to the outputs folder: the same file.
    const v2 = json<Version>(mlw(ws, 'model', 'register', runId.slice(-4), 'model.pkl', '--name', 'iris', '--json'));
    assert.equal(v2.version, 2);
    assert.equal(v2.contentHash, v1.contentHash);
    const objects = fs.readdirSync(path.join(ws, '.mlw', 'model-store', 'objects'), { recursive: true }).filter((f) => String(f).length > 10);
    assert.equal(objects.length, 1, `one stored object for the same bytes: ${objects.join(', ')}`);
  });

  it('keeps version metadata where git sees it and the model bytes where it does not', () => {
    const ignored = (rel: string) => spawnSync('git', ['check-ignore', '-q', rel], { cwd: ws }).status === 0;
    assert.equal(ignored('.mlw/models/iris/v1.json'), false, 'version records are meant to be committed');
    const object = fs.readdirSync(path.join(ws, '.mlw', 'model-store', 'objects'))[0];
    assert.equal(ignored(`.mlw/model-store/objects/${object}`), true, 'model bytes stay out of git');
    assert.equal(ignored(`.mlw/runs/${runId}/run.json`), true);
    const record = JSON.parse(fs.readFileSync(path.join(ws, '.mlw', 'models', 'iris', 'v1.json'), 'utf8')) as Version;
    assert.equal(record.files[0].path, 'model.pkl');
  });

  it('registers a folder of outputs and any workspace file, and lists versions newest first with the key metric', () => {
    const folder = json<Version>(mlw(ws, 'model', 'register', runId, 'outputs/bundle/', '--name', 'iris-bundle', '--json'));
    assert.deepEqual(folder.files.map((f) => f.path), ['labels.txt', 'model.pkl']);
    write(ws, 'models/hand.pkl', 'not really a model');
    const file = json<Version>(mlw(ws, 'model', 'register', '--file', 'models/hand.pkl', '--name', 'hand', '--json'));
    assert.deepEqual(file.source, { kind: 'file', path: 'models/hand.pkl' });
    const list = mlw(ws, 'model', 'list');
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.match(lines[0], /^MODEL\s+VERSION\s+ALIASES\s+CREATED\s+SOURCE\s+KEY METRIC/);
    const iris = lines.filter((l) => /^iris\s/.test(l));
    assert.deepEqual(iris.map((l) => l.split(/\s+/)[1]), ['2', '1'], 'newest first');
    assert.match(iris[0], /accuracy=0\.9/);
    const listed = json<{ name: string; versions: Version[] }[]>(mlw(ws, 'model', 'list', '--json'));
    assert.deepEqual(listed.map((m) => m.name), ['hand', 'iris', 'iris-bundle']);
  });

  it('moves an alias between versions (one version per alias) and resolves NAME, NAME:VERSION and NAME@ALIAS', () => {
    assert.equal(json<Version>(mlw(ws, 'model', 'show', 'iris', '--json')).version, 2);
    assert.equal(json<Version>(mlw(ws, 'model', 'show', 'iris:1', '--json')).version, 1);
    assert.match(mlw(ws, 'model', 'alias', 'iris:1', 'production').stdout, /iris@production → version 1/);
    assert.deepEqual(json<Version>(mlw(ws, 'model', 'show', 'iris@production', '--json')).aliases, ['production']);
    mlw(ws, 'model', 'alias', 'iris:2', 'production');
    const shown = json<Version>(mlw(ws, 'model', 'show', 'iris@production', '--json'));
    assert.equal(shown.version, 2);
    assert.deepEqual(json<Version>(mlw(ws, 'model', 'show', 'iris:1', '--json')).aliases, []);
    const text = mlw(ws, 'model', 'show', 'iris@production').stdout;
    assert.match(text, /^Model\s+iris:2 \(@production\)/m);
    assert.match(text, new RegExp(`^Run\\s+${runId} \\(train\\.py --C 0\\.5\\), outputs/model\\.pkl`, 'm'));
    assert.match(text, /^Params\s+C=0\.5/m);
    assert.match(text, /^Scoring\s+built-in scorer/m);
  });

  it('says what is wrong, with exit code 2, for bad references and paths', () => {
    const err = (...args: string[]) => {
      const r = mlw(ws, ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      return r.stderr;
    };
    assert.match(err('model', 'show', 'nosuch'), /No model named "nosuch"; models: hand, iris, iris-bundle/);
    assert.match(err('model', 'show', 'iris@staging'), /has no alias "staging" \(it has production → 2\)/);
    assert.match(err('model', 'show', 'iris:9'), /has no version 9; its versions: 1, 2/);
    assert.match(err('model', 'show', 'iris:x'), /"x" is not a version number/);
    assert.match(err('model', 'register', runId, 'outputs/missing.pkl', '--name', 'iris'), /outputs\/missing\.pkl does not exist in run .*'s outputs/);
    assert.match(err('model', 'register', runId, '../run.json', '--name', 'iris'), /is not inside run .*'s outputs/);
    assert.match(err('model', 'register', runId, 'model.pkl', '--name', 'bad name!'), /not a valid model name/);
    assert.match(err('model', 'register', runId, 'model.pkl'), /needs --name NAME/);
    assert.match(err('model', 'register', runId, 'model.pkl', '--name', 'iris', '--tag', 'novalue'), /write a tag as key=value/);
    assert.match(err('model', 'alias', 'iris', 'production'), /Name the version the alias points at/);
  });

  it('refuses a link or a FIFO a script left in its outputs, and a run that did not complete', async () => {
    const store = new RunStore(ws);
    const failed = completedRunRecord('20261201-120000-ffff0001', { status: 'Failed', script: 'train.py' });
    await store.create(failed);
    const out = store.paths(runId).outputs;
    fs.symlinkSync('/etc/passwd', path.join(out, 'stolen.pkl'));
    execFileSync('mkfifo', [path.join(out, 'bundle', 'pipe')]);
    try {
      const link = mlw(ws, 'model', 'register', runId, 'stolen.pkl', '--name', 'x');
      assert.match(link.stderr, /outputs\/stolen\.pkl of run \S+ is a link; only files and folders can be registered/);
      const fifo = mlw(ws, 'model', 'register', runId, 'bundle', '--name', 'x');
      assert.match(fifo.stderr, /outputs\/bundle\/pipe of run \S+ is not a regular file/);
      assert.match(mlw(ws, 'model', 'register', failed.id, 'model.pkl', '--name', 'x').stderr, /is Failed; register a model from a run that completed/);
      assert.equal(fs.existsSync(path.join(ws, '.mlw', 'models', 'x')), false, 'nothing half-registered');
    } finally {
      fs.rmSync(path.join(out, 'stolen.pkl'));
      fs.rmSync(path.join(out, 'bundle', 'pipe'));
    }
  });

  it('gives two processes registering at once two version numbers', async () => {
    const register = () => new Promise<string>((resolve, reject) => {
      const child = spawn(MLW, ['model', 'register', runId, 'model.pkl', '--name', 'race', '--json'], { cwd: ws });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
    const versions = (await Promise.all([register(), register(), register()])).map((o) => (JSON.parse(o) as Version).version).sort();
    assert.deepEqual(versions, [1, 2, 3]);
  });

  it('refuses to delete a version a deployment serves, naming it; deletes it otherwise with its alias', async () => {
    const registry = new ModelRegistry(ws);
    await assert.rejects(registry.deleteVersion('iris', 2, async (name, v) => (name === 'iris' && v === 2 ? ['iris-api'] : [])),
      /iris:2 is deployed as iris-api; delete or update that deployment first/);
    const del = mlw(ws, 'model', 'delete', 'iris:2');
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /Deleted iris:2/);
    assert.deepEqual(await registry.aliases('iris'), {}, 'the alias on the deleted version went with it');
    assert.deepEqual((await registry.versions('iris')).map((v) => v.version), [1]);
    // A number is never given twice: a commit or a deployment that named iris:2 never meets other bytes under it.
    assert.equal(json<Version>(mlw(ws, 'model', 'register', runId, 'bundle/model.pkl', '--name', 'iris', '--json')).version, 3);
  });
});
