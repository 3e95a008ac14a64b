/**
 * Host-side reads and writes of files a run or a workspace could have planted (issue 9, items 4-8): real files,
 * links and FIFOs in temp folders. A reader that would block on a FIFO runs in a child process with a deadline,
 * so a regression fails as "hung" instead of hanging the suite.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserFacingError } from '../../src/model/common/errors';
import { readTracking } from '../../src/model/runs/tracking';
import { walkTree } from '../../src/runner/fileWalker';
import { sanitizeOutputs } from '../../src/runner/outputsSanitizer';
import { diffSnapshot, planSnapshot, restoreFromSnapshot, snapshotFiles } from '../../src/runner/snapshot';
import { untrustedWorkspaceError } from '../../src/views/common/workspaceTrust';
import { copyForAnotherAccount } from '../harness/copyForAnotherAccount';
import { tempDir, write } from './support';

const MB = 1024 * 1024;
const TRACKING_JS = path.join(__dirname, '..', '..', 'src', 'model', 'runs', 'tracking.js');
const METRIC_LINE = JSON.stringify({ kind: 'metric', name: 'stolen', value: 42, step: null, t: 1 }) + '\n';

/** readTracking in a child process that is killed after 10 s: what it returned, or a "hung" failure. */
function readTrackingWithDeadline(file: string): { metrics: Record<string, unknown>; unreadable?: string } {
  const script = `require(${JSON.stringify(TRACKING_JS)}).readTracking(${JSON.stringify(file)}).then((d) => process.stdout.write(JSON.stringify(d)), (e) => { process.stderr.write(String(e)); process.exit(3); })`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  if (r.error) throw new Error(`readTracking(${file}) hung: ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { metrics: Record<string, unknown>; unreadable?: string };
}

describe('run-written tracking files (no-follow, non-blocking)', () => {
  it('a FIFO named events.jsonl is refused at once instead of blocking the reader', () => {
    const dir = path.join(tempDir(), 'tracking');
    fs.mkdirSync(dir);
    execFileSync('mkfifo', [path.join(dir, 'events.jsonl')]);
    const data = readTrackingWithDeadline(path.join(dir, 'events.jsonl'));
    assert.deepEqual(data.metrics, {});
    assert.equal(data.unreadable, 'tracking/events.jsonl is a FIFO (named pipe), so ML Workbench did not read it.');
  });

  it('a symlink named events.jsonl is not followed: the file it names is never read', async () => {
    const secret = path.join(tempDir(), 'elsewhere.jsonl');
    fs.writeFileSync(secret, METRIC_LINE);
    const dir = path.join(tempDir(), 'tracking');
    fs.mkdirSync(dir);
    fs.symlinkSync(secret, path.join(dir, 'events.jsonl'));
    const data = await readTracking(path.join(dir, 'events.jsonl'));
    assert.deepEqual(data.metrics, {});
    assert.equal(data.unreadable, 'tracking/events.jsonl is a symbolic link, so ML Workbench did not read it.');
  });

  it('reads at most 256 MB of a tracking file and says so; a line without end is skipped, not held in memory', async () => {
    const dir = path.join(tempDir(), 'tracking');
    const file = path.join(dir, 'events.jsonl');
    write(dir, 'events.jsonl', METRIC_LINE);
    // Sparse: 300 MB on paper, a few bytes on disk; all zeros after the first line, so one endless line.
    fs.truncateSync(file, 300 * MB);
    const started = Date.now();
    const data = await readTracking(file);
    assert.deepEqual(Object.keys(data.metrics), ['stolen']);
    assert.equal(data.unreadable, 'tracking/events.jsonl is larger than 256 MB; only its first 256 MB were read.');
    assert.ok(Date.now() - started < 20_000, `read in ${Date.now() - started} ms`);
  });

  it('a regular events.jsonl is read as before, with no complaint', async () => {
    const dir = path.join(tempDir(), 'tracking');
    write(dir, 'events.jsonl', METRIC_LINE);
    const data = await readTracking(path.join(dir, 'events.jsonl'));
    assert.deepEqual(Object.keys(data.metrics), ['stolen']);
    assert.equal(data.unreadable, undefined);
  });
});

describe('outputs sanitizer', () => {
  it('keeps regular files, folders and links inside; removes links leading out, dangling links and FIFOs, saying why', async () => {
    const outside = tempDir();
    write(outside, 'secret.txt', 'host secret');
    const outputs = tempDir();
    write(outputs, 'model.pt', 'weights');
    write(outputs, 'nested/metrics.json', '{}');
    fs.symlinkSync('model.pt', path.join(outputs, 'best.pt'));
    fs.symlinkSync('nested', path.join(outputs, 'nested-link'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(outputs, 'nested', 'escape'));
    fs.symlinkSync('nowhere', path.join(outputs, 'dangling'));
    execFileSync('mkfifo', [path.join(outputs, 'pipe')]);
    fs.symlinkSync('pipe', path.join(outputs, 'to-pipe'));
    const dropped = await sanitizeOutputs(outputs);
    assert.deepEqual(dropped, [
      { path: 'dangling', reason: 'a link to nowhere, which does not exist' },
      { path: 'nested/escape', reason: `a link to ${path.join(outside, 'secret.txt')}, outside the outputs folder` },
      { path: 'pipe', reason: 'a FIFO (named pipe), not a regular file' },
      { path: 'to-pipe', reason: 'a link to pipe, which does not exist' },
    ]);
    assert.deepEqual(fs.readdirSync(outputs).sort(), ['best.pt', 'model.pt', 'nested', 'nested-link']);
    assert.deepEqual(fs.readdirSync(path.join(outputs, 'nested')), ['metrics.json']);
    assert.equal(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'host secret', 'a link is removed, never what it points to');
  });

  it('also checks inside a folder the script made unreadable (run as the user who owns it, not root)', function () {
    if (process.getuid?.() !== 0) this.skip(); // becoming the owning user takes root
    const outputs = tempDir();
    write(outputs, 'locked/model.pt', 'weights');
    fs.symlinkSync('/etc/passwd', path.join(outputs, 'locked', 'leak'));
    fs.chmodSync(outputs, 0o755);
    execFileSync('chown', ['-R', '-h', '65534:65534', outputs]);
    fs.chmodSync(path.join(outputs, 'locked'), 0o000);
    // From a copy the other account can read, wherever the checkout is.
    const built = copyForAnotherAccount(path.join('out', 'src'));
    const sanitizer = path.join(built, 'out', 'src', 'runner', 'outputsSanitizer.js');
    let out: string;
    try {
      out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e',
        `require(${JSON.stringify(sanitizer)}).sanitizeOutputs(${JSON.stringify(outputs)}).then((d) => process.stdout.write(JSON.stringify(d)))`], { encoding: 'utf8', timeout: 10_000 });
    } finally {
      fs.rmSync(built, { recursive: true, force: true });
    }
    assert.deepEqual(JSON.parse(out), [{ path: 'locked/leak', reason: 'a link to /etc/passwd, outside the outputs folder' }]);
    assert.deepEqual(fs.readdirSync(path.join(outputs, 'locked')), ['model.pt']);
  });
});

describe('the shared file walker', () => {
  it('lists self-referencing links as links and never enters them (a -> ., b -> .)', async () => {
    const root = tempDir();
    write(root, 'train.py', 'x');
    fs.symlinkSync('.', path.join(root, 'a'));
    fs.symlinkSync('.', path.join(root, 'b'));
    const seen: string[] = [];
    await walkTree(root, { entry: (e) => void seen.push(`${e.rel}:${e.kind}`) });
    assert.deepEqual(seen, ['a:symlink', 'b:symlink', 'train.py:file']);
    assert.deepEqual(await snapshotFiles(root), ['a', 'b', 'train.py']);
  });

  it('gives up with a message naming the tree and the fix when it holds more entries than the bound', async () => {
    const root = tempDir();
    for (let i = 0; i < 12; i++) write(root, `f${i}.txt`, '');
    const err = await walkTree(root, { entry: () => undefined }, { maxEntries: 10, what: 'The workspace', hint: 'add large folders to .mlwignore (or .gitignore).' }).then(() => undefined, (e: Error) => e);
    assert.ok(err instanceof UserFacingError);
    assert.equal(err.message, 'The workspace has more than 10 files, folders and links; add large folders to .mlwignore (or .gitignore).');
  });
});

describe('snapshot: nested repositories and links', () => {
  it('leaves a nested sub/.git out, at any depth', async () => {
    const root = tempDir();
    write(root, 'train.py', 'x');
    write(root, 'sub/code.py', 'x');
    write(root, 'sub/.git/HEAD', 'ref: refs/heads/main\n');
    write(root, 'deep/er/.git/config', '[core]\n');
    write(root, 'deep/er/.hg/store', 'x');
    const plan = await planSnapshot(root, MB);
    assert.deepEqual(plan.entries.map((e) => e.rel), ['deep', 'deep/er', 'sub', 'sub/code.py', 'train.py']);
  });

  it('lists links leading outside the workspace, and dangling ones, as dropped', async () => {
    const root = tempDir();
    const outside = tempDir();
    write(outside, 'data.csv', 'a,b');
    write(root, 'train.py', 'x');
    fs.symlinkSync(path.join(outside, 'data.csv'), path.join(root, 'data.csv'));
    fs.symlinkSync('gone.txt', path.join(root, 'latest'));
    fs.symlinkSync('train.py', path.join(root, 'main.py'));
    const plan = await planSnapshot(root, MB);
    assert.deepEqual(plan.dropped, [
      { path: 'data.csv', reason: `a link to ${path.join(outside, 'data.csv')}, outside the workspace` },
      { path: 'latest', reason: 'a link to gone.txt, which does not exist' },
    ]);
    assert.deepEqual(plan.entries.map((e) => `${e.rel}:${e.kind}`), ['main.py:symlink', 'train.py:file']);
  });
});

describe('Restore Run\'s Code (core): never writes outside the workspace, never follows links', () => {
  const setup = () => {
    const root = tempDir();
    const snapshot = tempDir();
    const outside = tempDir();
    return { root, snapshot, outside };
  };

  it('does not write through a workspace folder that is a link to outside', async () => {
    const { root, snapshot, outside } = setup();
    write(snapshot, 'lib/util.py', 'restored = True\n');
    write(outside, 'util.py', 'outside, untouched\n');
    fs.symlinkSync(outside, path.join(root, 'lib'));
    const result = await restoreFromSnapshot(snapshot, root, ['lib/util.py']);
    assert.deepEqual(result, { restored: [], skipped: [{ path: 'lib/util.py', reason: 'its folder lib is a symbolic link in the workspace; not written through it' }] });
    assert.equal(fs.readFileSync(path.join(outside, 'util.py'), 'utf8'), 'outside, untouched\n');
  });

  it('does not write through a workspace file that is a link, nor through a hard link', async () => {
    const { root, snapshot, outside } = setup();
    write(snapshot, 'config.py', 'restored\n');
    write(snapshot, 'hard.py', 'restored\n');
    write(outside, 'config.py', 'outside, untouched\n');
    write(outside, 'hard.py', 'outside, untouched\n');
    fs.symlinkSync(path.join(outside, 'config.py'), path.join(root, 'config.py'));
    fs.linkSync(path.join(outside, 'hard.py'), path.join(root, 'hard.py'));
    const result = await restoreFromSnapshot(snapshot, root, ['config.py', 'hard.py']);
    assert.deepEqual(result, { restored: ['hard.py'], skipped: [{ path: 'config.py', reason: 'it is a symbolic link in the workspace; not written through it' }] });
    assert.equal(fs.readFileSync(path.join(outside, 'config.py'), 'utf8'), 'outside, untouched\n');
    assert.equal(fs.readFileSync(path.join(outside, 'hard.py'), 'utf8'), 'outside, untouched\n');
    assert.equal(fs.readFileSync(path.join(root, 'hard.py'), 'utf8'), 'restored\n');
  });

  it('recreates a snapshot link as a link when it stays inside; never copies what a link leading out names', async () => {
    const { root, snapshot, outside } = setup();
    write(outside, 'secret.txt', 'host secret\n');
    write(snapshot, 'train.py', 'print(1)\n');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(snapshot, 'creds'));
    fs.symlinkSync('train.py', path.join(snapshot, 'main.py'));
    const result = await restoreFromSnapshot(snapshot, root, ['creds', 'main.py', 'train.py', 'new/dir/file.py']);
    assert.deepEqual(result.restored, ['main.py', 'train.py']);
    assert.deepEqual(result.skipped, [
      { path: 'creds', reason: `it is a link to ${path.join(outside, 'secret.txt')} in the snapshot, outside the workspace` },
      { path: 'new/dir/file.py', reason: 'it is not in the snapshot' },
    ]);
    assert.equal(fs.existsSync(path.join(root, 'creds')), false);
    assert.equal(fs.readlinkSync(path.join(root, 'main.py')), 'train.py');
    assert.equal(fs.readFileSync(path.join(root, 'train.py'), 'utf8'), 'print(1)\n');
  });

  it('compares links as links: a snapshot link is never read through by the diff', async () => {
    const { root, snapshot, outside } = setup();
    write(outside, 'secret.txt', 'same bytes\n');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(snapshot, 'creds'));
    write(root, 'creds', 'same bytes\n');
    const diff = await diffSnapshot(snapshot, root);
    assert.deepEqual(diff.changed, ['creds'], 'a link and a file with the bytes it points to differ');
  });
});

describe('workspace trust gate (Restore, Delete, Clean Up)', () => {
  // The commands themselves are tested in Restricted Mode by test/vscode/untrustedWorkspace.test.ts.
  it('refuses with the reason and the button that opens the trust editor', () => {
    const refusals = (['restore', 'delete', 'cleanUp'] as const).map((action) => untrustedWorkspaceError(action));
    for (const err of refusals) {
      assert.ok(err instanceof UserFacingError);
      assert.deepEqual(err.action, { label: 'Manage Workspace Trust', command: 'workbench.trust.manage' });
    }
    assert.deepEqual(refusals.map((e) => e.message), [
      "Restoring a run's code writes files into this workspace, so it needs a trusted workspace. Trust the workspace first (Manage Workspace Trust).",
      'Deleting runs removes files and Docker images named by the run records in this workspace, so it needs a trusted workspace. Trust the workspace first (Manage Workspace Trust).',
      'Cleaning up removes files and Docker images named by the run records in this workspace, so it needs a trusted workspace. Trust the workspace first (Manage Workspace Trust).',
    ]);
  });
});
