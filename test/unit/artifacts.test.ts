import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserFacingError } from '../../src/model/common/errors';
import { copyOutputOut, listOutputs, resolveOutputPath } from '../../src/runner/artifacts';
import { tempDir as makeTempDir, write } from './support';

const userFacing = (pattern: RegExp) => (e: Error) => e instanceof UserFacingError && pattern.test(e.message);

describe('run outputs on the host (artifacts)', () => {
  let outputs: string;
  let outside: string;
  const dirs: string[] = [];
  const tempDir = (prefix: string) => {
    const d = makeTempDir(prefix);
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  before(() => {
    // A run's outputs as a script could leave them: nested folders, a link inside, links leading out.
    outputs = path.join(tempDir('mlw-artifacts-outputs-'), 'outputs');
    outside = tempDir('mlw-artifacts-outside-');
    write(outside, 'secret.txt', 'host secret');
    write(outside, 'dir/also-secret.txt', 'host secret too');
    write(outputs, 'metrics.csv', 'a,b\n1,2\n');
    write(outputs, 'artifacts/model/weights.bin', Buffer.alloc(1000, 7));
    write(outputs, 'artifacts/model/config/params.json', '{"lr":0.1}');
    fs.symlinkSync('model/weights.bin', path.join(outputs, 'artifacts', 'best.bin'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(outputs, 'escape.txt'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(outputs, 'artifacts', 'model', 'escape.txt'));
    fs.symlinkSync('../../..', path.join(outputs, 'artifacts', 'up'));
    fs.symlinkSync(path.join(outside, 'dir'), path.join(outputs, 'escape-dir'));
    fs.symlinkSync('model', path.join(outputs, 'artifacts', 'model-link'));
    fs.symlinkSync('missing.txt', path.join(outputs, 'dangling'));
  });

  it('resolveOutputPath refuses absolute paths and ".." segments, whether or not they would stay inside', async () => {
    for (const rel of ['/etc/passwd', path.join(outputs, 'metrics.csv'), 'C:\\Windows\\win.ini', '\\\\server\\share']) {
      await assert.rejects(resolveOutputPath(outputs, rel), userFacing(/absolute path/), rel);
    }
    for (const rel of ['../outputs/metrics.csv', 'artifacts/../metrics.csv', '..', 'artifacts\\..\\..\\x']) {
      await assert.rejects(resolveOutputPath(outputs, rel), userFacing(/contains "\.\."/), rel);
    }
    await assert.rejects(resolveOutputPath(outputs, 'nope.txt'), userFacing(/does not exist/));
    await assert.rejects(resolveOutputPath(outputs, 'dangling'), userFacing(/does not exist/));
  });

  it('resolveOutputPath follows links at every level and refuses any that lead outside', async () => {
    const real = fs.realpathSync(outputs);
    assert.equal(await resolveOutputPath(outputs, 'metrics.csv'), path.join(real, 'metrics.csv'));
    assert.equal(await resolveOutputPath(outputs, './artifacts//best.bin'), path.join(real, 'artifacts/model/weights.bin'));
    assert.equal(await resolveOutputPath(outputs, 'artifacts/model-link/config/params.json'), path.join(real, 'artifacts/model/config/params.json'));
    for (const rel of ['escape.txt', 'artifacts/model/escape.txt', 'artifacts/up', 'escape-dir/also-secret.txt', 'escape-dir/no-such-file']) {
      await assert.rejects(resolveOutputPath(outputs, rel), userFacing(/leads outside the run's outputs folder/), rel);
    }
  });

  it('listOutputs lists regular files recursively and sorted, inside links at their target size, and reports the rest', async () => {
    const skipped: [string, string][] = [];
    const list = await listOutputs(outputs, (rel, reason) => skipped.push([rel, reason]));
    assert.deepEqual(list, [
      { rel: 'artifacts/best.bin', size: 1000 },
      { rel: 'artifacts/model/config/params.json', size: 10 },
      { rel: 'artifacts/model/weights.bin', size: 1000 },
      { rel: 'metrics.csv', size: 8 },
    ]);
    assert.deepEqual(new Map(skipped), new Map([
      ['artifacts/model/escape.txt', 'a link leading outside the outputs folder'],
      ['artifacts/up', 'a link leading outside the outputs folder'],
      ['escape.txt', 'a link leading outside the outputs folder'],
      ['escape-dir', 'a link leading outside the outputs folder'],
      ['artifacts/model-link', 'a link to a folder (its files are listed where they really are)'],
      ['dangling', 'a link to something that does not exist'],
    ]));
    assert.deepEqual(await listOutputs(path.join(outside, 'no-such-run')), []);
  });

  it('copyOutputOut copies a file and an inside link as content, refuses escaping links, never overwrites by default', async () => {
    const dest = tempDir('mlw-artifacts-copy-');
    const copied = await copyOutputOut(outputs, 'metrics.csv', dest);
    assert.equal(copied, path.join(dest, 'metrics.csv'));
    assert.equal(fs.readFileSync(copied, 'utf8'), 'a,b\n1,2\n');

    const best = await copyOutputOut(outputs, 'artifacts/best.bin', dest);
    assert.equal(best, path.join(dest, 'best.bin'));
    assert.equal(fs.lstatSync(best).isFile(), true, 'a file, not a link');
    assert.deepEqual(fs.readFileSync(best), Buffer.alloc(1000, 7));

    for (const rel of ['escape.txt', 'escape-dir', 'artifacts/up']) {
      await assert.rejects(copyOutputOut(outputs, rel, dest), userFacing(/leads outside/), rel);
    }
    await assert.rejects(copyOutputOut(outputs, '../x', dest), userFacing(/contains "\.\."/));
    assert.deepEqual(fs.readdirSync(dest).sort(), ['best.bin', 'metrics.csv'], 'nothing from outside was copied');

    fs.writeFileSync(copied, 'user edit');
    await assert.rejects(copyOutputOut(outputs, 'metrics.csv', dest), userFacing(/already exists; not overwritten/));
    assert.equal(fs.readFileSync(copied, 'utf8'), 'user edit');
    await copyOutputOut(outputs, 'metrics.csv', dest, { overwrite: true });
    assert.equal(fs.readFileSync(copied, 'utf8'), 'a,b\n1,2\n');
  });

  it('copyOutputOut copies nested folders recursively, checking each entry and skipping links that escape', async () => {
    const dest = tempDir('mlw-artifacts-copy-');
    const skipped: string[] = [];
    const copied = await copyOutputOut(outputs, 'artifacts', dest, { onSkipped: (rel) => skipped.push(rel) });
    assert.equal(copied, path.join(dest, 'artifacts'));
    const files: string[] = [];
    const walk = (dir: string, rel = ''): void => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        assert.equal(d.isSymbolicLink(), false, 'no links in a copy');
        if (d.isDirectory()) walk(path.join(dir, d.name), `${rel}${d.name}/`);
        else files.push(`${rel}${d.name}`);
      }
    };
    walk(copied);
    assert.deepEqual(files.sort(), ['best.bin', 'model/config/params.json', 'model/weights.bin']);
    assert.equal(fs.readFileSync(path.join(copied, 'model/config/params.json'), 'utf8'), '{"lr":0.1}');
    assert.deepEqual(skipped.sort(), ['artifacts/model-link', 'artifacts/model/escape.txt', 'artifacts/up']);
    assert.equal(fs.existsSync(path.join(copied, 'model', 'escape.txt')), false);
  });
});
