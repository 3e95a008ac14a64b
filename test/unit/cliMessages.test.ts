import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../harness/testWorkspace';
import { createTestWorkspace, tempDir, testBaseImage, write } from './support';

const MLW = path.join(REPO_ROOT, 'bin', 'mlw');

function mlw(cwd: string, ...args: string[]) {
  const r = spawnSync(MLW, args, { cwd, encoding: 'utf8', env: { ...process.env, MLW_BASE_IMAGE: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ESC = '\u001b';

describe('mlw CLI messages (real Docker)', () => {
  it('prints run-provided names and values with their control characters shown, never sent to the terminal', () => {
    const ws = createTestWorkspace('mlw-cli-text-');
    write(ws, 'hostile.py', [
      'import mlw',
      'mlw.log_metric("loss\\x1b[2J\\x1b]0;owned\\x07", 0.5, step=0)',
      'mlw.log_param("lr\\x1b[31m", "fast\\x9b1m")',
      'mlw.set_tag("note", "a\\u202eb")',
      '',
    ].join('\n'));
    // No network needed (and the shared engine's bridge may be unavailable).
    write(ws, '.mlw/runconfigs/default.yaml', 'network: none\n');
    const run = mlw(ws, 'run', 'hostile.py');
    assert.equal(run.code, 0, run.stderr);
    const id = JSON.parse(mlw(ws, 'runs', 'list', '--json').stdout)[0].id as string;

    const metrics = mlw(ws, 'runs', 'metrics', id);
    assert.equal(metrics.stdout,
      'METRIC                       LAST  MIN  MAX  POINTS\n' +
      'loss\\x1b[2J\\x1b]0;owned\\x07  0.5   0.5  0.5  1\n' +
      '\n' +
      'Params: lr\\x1b[31m="fast\\x9b1m"\n');
    const show = mlw(ws, 'runs', 'show', id);
    assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/.test(show.stdout), JSON.stringify(show.stdout));
    assert.match(show.stdout, /^Params    lr\\x1b\[31m="fast\\x9b1m"$/m);
    assert.match(show.stdout, /^Metrics   loss\\x1b\[2J\\x1b\]0;owned\\x07=0\.5$/m);
    assert.match(show.stdout, /^Tags      note=a\\u202eb$/m);
    // The machine-readable form keeps the names as they were logged.
    assert.ok(Object.hasOwn(JSON.parse(mlw(ws, 'runs', 'metrics', id, '--json').stdout).metrics, `loss${ESC}[2J${ESC}]0;owned\u0007`));
  });

  it('started in a subfolder, uses the folder that holds .mlw/, else the git top level, and says which', () => {
    const ws = createTestWorkspace('mlw-cli-root-');
    const sub = path.join(ws, 'scripts');
    const real = fs.realpathSync(ws);
    // A repository with no .mlw yet: the top of the repository, not the subfolder.
    const first = mlw(sub, 'runs', 'list');
    assert.equal(first.stderr, `mlw: workspace ${real} (the top of the git repository; --workspace DIR to choose another)\n`);
    assert.equal(first.stdout, `No runs yet in ${real}. Start one with: mlw run <script.py>\n`);
    assert.equal(fs.existsSync(path.join(sub, '.mlw')), false, 'no second store in the subfolder');
    // A script named from the subfolder is that folder's file, recorded relative to the workspace.
    write(ws, '.mlw/runconfigs/default.yaml', 'network: none\n');
    const run = mlw(sub, 'run', 'hello.py');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(fs.existsSync(path.join(sub, '.mlw')), false, 'no second store in the subfolder');
    const runs = JSON.parse(mlw(ws, 'runs', 'list', '--json').stdout) as { script: string }[];
    assert.deepEqual(runs.map((r) => r.script), ['scripts/hello.py']);

    // A project folder inside a bigger repository: the nearest folder with .mlw/ wins over the git top level.
    const project = path.join(ws, 'project');
    write(project, 'src/train.py', 'print("in project")\n');
    fs.mkdirSync(path.join(project, '.mlw'));
    const nested = mlw(path.join(project, 'src'), 'runs', 'list');
    assert.equal(nested.stderr, `mlw: workspace ${fs.realpathSync(project)} (the nearest folder with .mlw/; --workspace DIR to choose another)\n`);
    assert.match(nested.stdout, /^No runs yet in /);

    // At the workspace itself nothing is said; outside any repository the current folder is used.
    assert.equal(mlw(ws, 'runs', 'list').stderr, '');
    const plain = tempDir('mlw-cli-plain-');
    assert.equal(mlw(plain, 'runs', 'list').stderr, '');
    assert.equal(mlw(plain, 'runs', 'list').stdout, `No runs yet in ${plain}. Start one with: mlw run <script.py>\n`);
  });

  it('says by how much a snapshot is over its limit (210,000,000 bytes against 200 MB)', () => {
    const ws = createTestWorkspace('mlw-cli-size-');
    write(ws, '.vscode/settings.json', JSON.stringify({ 'mlw.baseImage': testBaseImage(), 'mlw.snapshotMaxMB': 200 }));
    // Sparse: the size counts, no disk is used.
    write(ws, 'assets/big.bin', '');
    fs.truncateSync(path.join(ws, 'assets', 'big.bin'), 210_000_000);
    const r = mlw(ws, 'run', 'scripts/hello.py');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^mlw: The workspace snapshot would be 200\.3 MB, above the 200\.0 MB limit \(setting mlw\.snapshotMaxMB\)\. Largest entries: assets \(200 MB\),/m);
  });
});
