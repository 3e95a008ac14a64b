import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseJsonc } from '../../src/cli/settings';
import { REPO_ROOT } from '../harness/testWorkspace';
import { createTestWorkspace, write } from './support';

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
});
