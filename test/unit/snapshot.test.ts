import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserFacingError } from '../../src/model/common/errors';
import { copySnapshot, planSnapshot } from '../../src/runner/snapshot';
import { tempDir, write } from './support';

const MB = 1024 * 1024;

function files(plan: Awaited<ReturnType<typeof planSnapshot>>): string[] {
  return plan.entries.filter((e) => e.kind === 'file').map((e) => e.rel).sort();
}

describe('snapshot', () => {
  it('honours .gitignore and .mlwignore at every level, with negation, and never takes .git or .mlw', async () => {
    const root = tempDir();
    write(root, '.gitignore', 'data/\n*.log\n!keep.log\n');
    write(root, '.mlwignore', 'scratch.py\n');
    write(root, 'train.py', 'print(1)');
    write(root, 'scratch.py', 'x');
    write(root, 'data/big.csv', 'a,b');
    write(root, 'run.log', 'x');
    write(root, 'keep.log', 'x');
    write(root, 'pkg/.gitignore', 'cache/\n/local.txt\n');
    write(root, 'pkg/mod.py', 'x');
    write(root, 'pkg/local.txt', 'x');
    write(root, 'pkg/cache/c.bin', 'x');
    write(root, 'pkg/sub/local.txt', 'kept: the rule is anchored to pkg/');
    write(root, '.git/HEAD', 'ref');
    write(root, '.mlw/runs/x/run.json', '{}');
    const plan = await planSnapshot(root, 10 * MB);
    assert.deepEqual(files(plan), ['.gitignore', '.mlwignore', 'keep.log', 'pkg/.gitignore', 'pkg/mod.py', 'pkg/sub/local.txt', 'train.py']);
  });

  it('refuses a snapshot above the limit before copying, naming the biggest entries and the fix', async () => {
    const root = tempDir();
    write(root, 'train.py', 'print(1)');
    write(root, 'data/huge.bin', Buffer.alloc(3 * MB));
    const err = await planSnapshot(root, 1 * MB).then(() => undefined, (e: Error) => e);
    assert.ok(err instanceof UserFacingError);
    assert.match(err.message, /3\.0 MB, above the 1\.0 MB limit \(setting mlw\.snapshotMaxMB\)/);
    assert.match(err.message, /data \(3\.0 MB\)/);
    assert.match(err.message, /\.mlwignore/);
  });

  it('copies files and in-workspace symlinks, and drops symlinks that escape the workspace', async () => {
    const root = tempDir();
    const outside = tempDir();
    write(outside, 'secret.txt', 'do not copy');
    write(root, 'a/b.txt', 'hello');
    fs.symlinkSync('a/b.txt', path.join(root, 'inside-link'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'escaping-link'));
    const dest = path.join(tempDir(), 'snap');
    await copySnapshot(await planSnapshot(root, MB), dest);
    assert.equal(fs.readFileSync(path.join(dest, 'a/b.txt'), 'utf8'), 'hello');
    assert.equal(fs.readlinkSync(path.join(dest, 'inside-link')), 'a/b.txt');
    assert.equal(fs.existsSync(path.join(dest, 'escaping-link')), false);
  });
});
