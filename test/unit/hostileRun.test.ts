/**
 * Hostile scripts against the host (issue 9, "the host never trusts what a run wrote"): real `mlw` processes on
 * real Docker. Each CLI call runs with a deadline, so a regression that hangs (a FIFO, a link loop) fails here
 * with "timed out" instead of hanging the suite; containers a timed-out run left are removed by its workspace label.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunRecord } from '../../src/model/runs/run';
import { REPO_ROOT } from '../harness/testWorkspace';
import { createTestWorkspace, docker, tempDir, testBaseImage, write } from './support';

const MLW = path.join(REPO_ROOT, 'bin', 'mlw');
const DEADLINE_MS = 90_000;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mlw(cwd: string, ...args: string[]): CliResult {
  const r = spawnSync(MLW, args, { cwd, encoding: 'utf8', timeout: DEADLINE_MS, killSignal: 'SIGKILL', env: { ...process.env, MLW_BASE_IMAGE: '' } });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    throw new Error(`mlw ${args.join(' ')} did not finish within ${DEADLINE_MS / 1000} s (hung)\nstderr so far: ${r.stderr}`);
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The record of the run `mlw run` just made, read from disk as any tool would. */
function onlyRun(ws: string): RunRecord {
  const runsDir = path.join(ws, '.mlw', 'runs');
  const ids = fs.readdirSync(runsDir).filter((n) => fs.existsSync(path.join(runsDir, n, 'run.json')));
  assert.equal(ids.length, 1, `one run in ${runsDir}: ${ids.join(', ')}`);
  return JSON.parse(fs.readFileSync(path.join(runsDir, ids[0], 'run.json'), 'utf8')) as RunRecord;
}

function runDir(ws: string, run: RunRecord): string {
  return path.join(ws, '.mlw', 'runs', run.id);
}

describe('hostile scripts: the host never trusts what a run wrote (real Docker, mlw CLI)', function () {
  this.timeout(4 * DEADLINE_MS);
  const workspaces: string[] = [];
  const fresh = (prefix: string) => {
    const ws = createTestWorkspace(prefix);
    // Hostile scripts get no network (and the tests need no bridge on the shared engine).
    write(ws, '.mlw/runconfigs/default.yaml', 'network: none\n');
    workspaces.push(ws);
    return ws;
  };
  const images: string[] = [];

  after(async () => {
    for (const ws of workspaces) {
      const left = await docker.listContainers({ all: true, filters: { label: [`mlw.workspace=${ws}`] } });
      for (const c of left) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    for (const id of images) await docker.getImage(id).remove({ force: true }).catch(() => undefined);
  });

  it('a FIFO in place of tracking/events.jsonl hangs neither mlw run, nor runs list, nor runs metrics; the record says why', () => {
    const ws = fresh('mlw-fifo-');
    write(ws, 'fifo.py', [
      'import os',
      'p = os.path.join(os.environ["MLW_TRACKING_DIR"], "events.jsonl")',
      'if os.path.exists(p): os.remove(p)',
      'os.mkfifo(p)',
      'print("made a fifo")',
    ].join('\n'));
    const run = mlw(ws, 'run', 'fifo.py');
    assert.equal(run.code, 0, run.stderr);
    const record = onlyRun(ws);
    assert.equal(record.status, 'Completed', record.reason);
    assert.equal(record.trackingUnreadable, 'tracking/events.jsonl is a FIFO (named pipe), so ML Workbench did not read it.');
    const list = mlw(ws, 'runs', 'list', '--json');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as RunRecord[]).map((r) => [r.id, r.status]), [[record.id, 'Completed']]);
    const metrics = mlw(ws, 'runs', 'metrics', record.id);
    assert.equal(metrics.code, 0, metrics.stderr);
    assert.equal(metrics.stderr, 'mlw: tracking/events.jsonl is a FIFO (named pipe), so ML Workbench did not read it.\n');
    assert.match(mlw(ws, 'runs', 'show', record.id).stdout, /^Tracking  tracking\/events\.jsonl is a FIFO \(named pipe\), so ML Workbench did not read it\.$/m);
  });

  it('a symlink in place of tracking/events.jsonl is not followed: the host file it names never reaches the record', () => {
    const ws = fresh('mlw-tracklink-');
    const outside = tempDir('mlw-host-secret-');
    const secret = path.join(outside, 'events.jsonl');
    fs.writeFileSync(secret, JSON.stringify({ kind: 'metric', name: 'stolen', value: 42, step: null, t: 1 }) + '\n');
    write(ws, 'link.py', [
      'import os, sys',
      'p = os.path.join(os.environ["MLW_TRACKING_DIR"], "events.jsonl")',
      'if os.path.exists(p): os.remove(p)',
      'os.symlink(sys.argv[1], p)',
    ].join('\n'));
    const run = mlw(ws, 'run', 'link.py', '--', secret);
    assert.equal(run.code, 0, run.stderr);
    const record = onlyRun(ws);
    assert.equal(record.status, 'Completed', record.reason);
    assert.equal(record.metrics, undefined, 'the metric of the file the link names is not recorded');
    assert.equal(record.trackingUnreadable, 'tracking/events.jsonl is a symbolic link, so ML Workbench did not read it.');
    const metrics = mlw(ws, 'runs', 'metrics', record.id, '--json');
    assert.deepEqual(JSON.parse(metrics.stdout).metrics, {});
  });

  it('outputs keep only regular files and links staying inside; the rest is removed and listed in logs.txt and droppedOutputs', () => {
    const ws = fresh('mlw-outputs-');
    write(ws, 'outs.py', [
      'import os, mlw',
      'os.makedirs("outputs/sub", exist_ok=True)',
      'open("outputs/model.pt", "w").write("weights")',
      'os.symlink("/etc/passwd", "outputs/leak")',
      'os.symlink("../../..", "outputs/sub/up")',
      'os.symlink("model.pt", "outputs/latest.pt")',
      'os.symlink("sub", "outputs/subdir")',
      'os.symlink("missing.bin", "outputs/dangling")',
      'os.mkfifo("outputs/pipe")',
      'mlw.log_artifact("outputs/pipe")',
      'mlw.log_artifact("outputs/model.pt")',
    ].join('\n'));
    const run = mlw(ws, 'run', 'outs.py');
    assert.equal(run.code, 0, run.stderr);
    const record = onlyRun(ws);
    assert.equal(record.status, 'Completed', record.reason);
    assert.deepEqual(record.droppedOutputs, [
      { path: 'dangling', reason: 'a link to missing.bin, which does not exist' },
      { path: 'leak', reason: 'a link to /etc/passwd, outside the outputs folder' },
      { path: 'pipe', reason: 'a FIFO (named pipe), not a regular file' },
      { path: 'sub/up', reason: 'a link to ../../.., outside the outputs folder' },
    ]);
    assert.deepEqual(record.artifacts, ['model.pt'], 'a FIFO is not recorded as an artifact');
    const outputs = path.join(runDir(ws, record), 'outputs');
    assert.deepEqual(fs.readdirSync(outputs).sort(), ['latest.pt', 'model.pt', 'sub', 'subdir']);
    assert.equal(fs.readlinkSync(path.join(outputs, 'latest.pt')), 'model.pt');
    const logs = fs.readFileSync(path.join(runDir(ws, record), 'logs.txt'), 'utf8');
    const expected = [
      '[mlw] removed from outputs/ dangling (a link to missing.bin, which does not exist)',
      '[mlw] removed from outputs/ leak (a link to /etc/passwd, outside the outputs folder)',
      '[mlw] removed from outputs/ pipe (a FIFO (named pipe), not a regular file)',
      '[mlw] removed from outputs/ sub/up (a link to ../../.., outside the outputs folder)',
    ].join('\n') + '\n';
    assert.ok(logs.endsWith(expected), `logs.txt ends with the removals:\n${logs}`);
    assert.ok(run.stderr.includes(expected), `mlw run shows them:\n${run.stderr}`);
  });

  it('a workspace with two self-referencing links and a Dockerfile builds and runs (the walker follows no link)', () => {
    const ws = fresh('mlw-selflinks-');
    fs.symlinkSync('.', path.join(ws, 'a'));
    fs.symlinkSync('.', path.join(ws, 'b'));
    // A token of its own, so the content-addressed tag is this test's image only (removed after).
    write(ws, 'Dockerfile', `FROM ${testBaseImage()}\n# ${path.basename(ws)}\nCOPY scripts /tmp/scripts\n`);
    write(ws, 'loops.py', 'import os\nprint("a is", os.readlink("a"), "b is", os.readlink("b"))\n');
    const run = mlw(ws, 'run', 'loops.py');
    const record = onlyRun(ws);
    if (record.imageId) images.push(record.imageId);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(record.status, 'Completed', record.reason);
    assert.equal(record.environment?.kind, 'dockerfile');
    assert.match(run.stdout, /^a is \. b is \.$/m);
  });

  it('a nested sub/.git is left out of the snapshot, as the top-level .git is', () => {
    const ws = fresh('mlw-nestedgit-');
    write(ws, 'sub/.git/HEAD', 'ref: refs/heads/main\n');
    write(ws, 'sub/.git/config', '[core]\n');
    write(ws, 'sub/code.py', 'x = 1\n');
    write(ws, 'seegit.py', 'import os\nprint("nested git:", os.path.exists("sub/.git"), "code:", os.path.exists("sub/code.py"))\n');
    const run = mlw(ws, 'run', 'seegit.py');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^nested git: False code: True$/m);
    const record = onlyRun(ws);
    assert.equal(fs.existsSync(path.join(runDir(ws, record), 'snapshot', 'sub', '.git')), false);
  });

  it('refuses a script that is a link to a file outside the workspace, before any run exists', () => {
    const ws = fresh('mlw-scriptlink-');
    const outside = tempDir('mlw-outside-script-');
    write(outside, 'train.py', 'print("outside")\n');
    fs.symlinkSync(path.join(outside, 'train.py'), path.join(ws, 'train.py'));
    const run = mlw(ws, 'run', 'train.py');
    assert.equal(run.code, 2, run.stderr);
    assert.equal(
      run.stderr,
      `mlw: train.py leads through a symbolic link to ${fs.realpathSync(path.join(outside, 'train.py'))}, outside the workspace folder ${ws}; ` +
        `the run's snapshot holds only the workspace, so the script would not be there. Copy the script into the workspace instead.\n`,
    );
    assert.equal(fs.existsSync(path.join(ws, '.mlw', 'runs')) && fs.readdirSync(path.join(ws, '.mlw', 'runs')).length, false, 'no run was created');
  });

  it('warns about workspace links to outside files left out of the snapshot: in the output, logs.txt and the record', () => {
    const ws = fresh('mlw-outlink-');
    const outside = tempDir('mlw-outside-data-');
    write(outside, 'data.csv', 'a,b\n1,2\n');
    fs.symlinkSync(path.join(outside, 'data.csv'), path.join(ws, 'data.csv'));
    write(ws, 'reads.py', 'import os\nprint("data there:", os.path.exists("data.csv"))\n');
    const run = mlw(ws, 'run', 'reads.py');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^data there: False$/m);
    const record = onlyRun(ws);
    const reason = `a link to ${path.join(outside, 'data.csv')}, outside the workspace`;
    assert.deepEqual(record.snapshot?.dropped, [{ path: 'data.csv', reason }]);
    const line = `[mlw] left out of the snapshot: data.csv (${reason})\n`;
    assert.ok(run.stderr.includes(line), `mlw run warns:\n${run.stderr}`);
    assert.ok(fs.readFileSync(path.join(runDir(ws, record), 'logs.txt'), 'utf8').endsWith(line), 'logs.txt keeps the warning');
    assert.match(mlw(ws, 'runs', 'show', record.id).stdout, new RegExp(`^Left out  data\\.csv \\(a link to .*data\\.csv, outside the workspace\\)$`, 'm'));
  });
});
