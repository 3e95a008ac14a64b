import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RUN_SCHEMA_VERSION, newRunId } from '../../src/model/runs/run';
import { activateExtension, store, workspaceRoot } from './helpers';
import { skipBecause } from './skip';

const NEEDS_TRUST = 'so it needs a trusted workspace. Trust the workspace first (Manage Workspace Trust).';

/**
 * Restricted Mode (issue 9, item 6): a folder that ships its own `.mlw/runs` (as a cloned repository can) gets
 * no Restore, Delete or Clean Up until the user trusts it. Runs only when the harness opens the folder untrusted:
 * `MLW_TEST_UNTRUSTED=1 MLW_TEST_GREP='Restricted Mode' node out/test/harness/codeServerTests.js`; in the
 * ordinary (trusted) suite it is skipped.
 */
describe('Restricted Mode: Restore, Delete and Clean Up need a trusted workspace (real VS Code)', () => {
  before(function () {
    if (vscode.workspace.isTrusted) skipBecause(this, 'the folder is trusted in this pass; npm test runs this in its Restricted Mode pass, MLW_TEST_UNTRUSTED=1');
  });

  it('refuses each with the reason and leaves the workspace, the run and its snapshot as they were', async () => {
    await activateExtension();
    const root = workspaceRoot();
    const script = path.join(root, 'scripts', 'hello.py');
    const before = fs.readFileSync(script, 'utf8');
    // A run the folder came with: its snapshot would overwrite the script if restored.
    const id = newRunId();
    const now = new Date().toISOString();
    await store().create({ schemaVersion: RUN_SCHEMA_VERSION, id, script: 'scripts/hello.py', args: [], status: 'Completed', createdAt: now, startedAt: now, endedAt: now, exitCode: 0 });
    const snapshot = store().paths(id).snapshot;
    fs.mkdirSync(path.join(snapshot, 'scripts'), { recursive: true });
    fs.writeFileSync(path.join(snapshot, 'scripts', 'hello.py'), 'print("planted")\n');

    const restore = (await vscode.commands.executeCommand('mlw.restoreSnapshot', id, true)) as { error?: string };
    assert.equal(restore.error, `Restoring a run's code writes files into this workspace, ${NEEDS_TRUST}`);
    const del = (await vscode.commands.executeCommand('mlw.deleteRun', id, undefined, true)) as { error?: string };
    assert.equal(del.error, `Deleting runs removes files and Docker images named by the run records in this workspace, ${NEEDS_TRUST}`);
    const cleanUp = (await vscode.commands.executeCommand('mlw.cleanUp', { statuses: ['Completed'] }, true)) as { error?: string };
    assert.equal(cleanUp.error, `Cleaning up removes files and Docker images named by the run records in this workspace, ${NEEDS_TRUST}`);

    assert.equal(fs.readFileSync(script, 'utf8'), before, 'the script was not restored');
    assert.equal((await store().get(id))?.status, 'Completed', 'the run was not deleted');
    assert.ok(fs.existsSync(path.join(snapshot, 'scripts', 'hello.py')), 'its snapshot is still there');
  });
});
