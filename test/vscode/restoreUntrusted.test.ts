import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, store, waitForEnd, workspaceRoot } from './helpers';

/**
 * Restore Run's Code against links (issue 9, item 6): a real run's snapshot, then a workspace folder swapped for
 * a link to outside, and a link planted in the snapshot (as a cloned repository's .mlw could hold). The trust
 * gate itself is tested in test/unit/untrustedFiles.test.ts: this harness opens its folder with workspace trust
 * disabled, so the folder is always trusted here.
 */
describe("Restore Run's Code never writes outside the workspace nor follows links (real VS Code, real Docker)", () => {
  it('skips a file whose workspace folder became a link to outside, and a snapshot link leading out, and says so', async () => {
    await activateExtension();
    const root = workspaceRoot();
    fs.mkdirSync(path.join(root, '.mlw', 'runconfigs'), { recursive: true });
    fs.writeFileSync(path.join(root, '.mlw', 'runconfigs', 'restore-isolated.yaml'), 'network: none\n');
    fs.mkdirSync(path.join(root, 'restoreme'), { recursive: true });
    fs.writeFileSync(path.join(root, 'restoreme', 'train.py'), 'print("the run\'s version")\n');
    const uri = vscode.Uri.file(path.join(root, 'restoreme', 'train.py'));
    const result = (await vscode.commands.executeCommand('mlw.runAsExperimentWithConfig', uri, 'restore-isolated')) as { runId?: string; error?: string };
    assert.ok(result.runId, result.error);
    const run = await waitForEnd(result.runId);
    assert.equal(run.status, 'Completed', run.reason);

    // The workspace folder is now a link to a folder outside, holding a different train.py.
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-restore-outside-'));
    fs.writeFileSync(path.join(outside, 'train.py'), 'outside, must stay untouched\n');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'host secret\n');
    fs.rmSync(path.join(root, 'restoreme'), { recursive: true });
    fs.symlinkSync(outside, path.join(root, 'restoreme'));
    // A link in the snapshot leading out (a planted or tampered run folder).
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(store().paths(run.id).snapshot, 'creds.txt'));
    try {
      const restored = (await vscode.commands.executeCommand('mlw.restoreSnapshot', run.id, true)) as { restored: string[]; skipped: { path: string; reason: string }[]; message: string };
      assert.equal(fs.readFileSync(path.join(outside, 'train.py'), 'utf8'), 'outside, must stay untouched\n', 'nothing written through the folder link');
      assert.equal(fs.existsSync(path.join(root, 'creds.txt')), false, "the snapshot link's target was not copied in");
      assert.deepEqual(restored.skipped, [
        { path: 'creds.txt', reason: `it is a link to ${path.join(outside, 'secret.txt')} in the snapshot, outside the workspace` },
        { path: 'restoreme/train.py', reason: 'its folder restoreme is a symbolic link in the workspace; not written through it' },
      ]);
      assert.match(restored.message, /^Restored \d+ file\(s\) from run .* Skipped 2: creds\.txt \(it is a link to .*secret\.txt in the snapshot, outside the workspace\); restoreme\/train\.py \(its folder restoreme is a symbolic link in the workspace; not written through it\)\.$/);
    } finally {
      fs.rmSync(path.join(root, 'restoreme'));
      fs.rmSync(path.join(root, '.mlw', 'runconfigs', 'restore-isolated.yaml'));
    }
  });
});
