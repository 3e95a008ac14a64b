import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  EXTENSION_ID, activateExtension, containersOf, openScript, readLogs, runCommand, store, waitFor, waitForEnd, withSetting, workspaceRoot,
} from './helpers';

function runIdOf(result: unknown): string {
  assert.ok(result && typeof result === 'object' && 'runId' in result, `expected a run id, got ${JSON.stringify(result)}`);
  return (result as { runId: string }).runId;
}

function errorOf(result: unknown): string {
  assert.ok(result && typeof result === 'object' && 'error' in result, `expected an error, got ${JSON.stringify(result)}`);
  return (result as { error: string }).error;
}

describe('Run as Experiment (real VS Code, real Docker)', () => {
  before(async () => {
    await activateExtension();
  });

  it('activates and contributes its commands', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext?.isActive, 'extension is active');
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['mlw.runAsExperiment', 'mlw.cancelRun', 'mlw.showLogs']) assert.ok(commands.includes(id), `${id} registered`);
    const menus = ext.packageJSON.contributes.menus;
    for (const menu of ['editor/context', 'explorer/context', 'editor/title/run']) {
      assert.ok(
        menus[menu].some((m: { command: string; when: string }) => m.command === 'mlw.runAsExperiment' && m.when.includes('resourceLangId == python')),
        `${menu} offers Run as Experiment for Python files`,
      );
    }
  });

  it('runs the open script to Completed, with its output in logs.txt and git lineage', async () => {
    await openScript('scripts/hello.py');
    const runId = runIdOf(await runCommand());
    const run = await waitForEnd(runId);
    assert.equal(run.status, 'Completed', `status (reason: ${run.reason})`);
    assert.equal(run.exitCode, 0);
    assert.equal(run.script, 'scripts/hello.py');
    assert.match(readLogs(runId), /hello from the experiment/);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: workspaceRoot(), encoding: 'utf8' }).trim();
    assert.equal(run.git?.commit, head);
    assert.equal(run.git?.branch, 'main');
    assert.ok(run.startedAt && run.endedAt && run.imageId, 'times and image recorded');
    assert.ok(fs.existsSync(path.join(store().paths(runId).snapshot, 'scripts', 'hello.py')), 'snapshot holds the script');
    assert.deepEqual(containersOf(runId), [], 'container removed after the run');
  });

  it('saves unsaved edits before running, so the run sees them', async () => {
    const uri = await openScript('scripts/hello.py');
    const editor = vscode.window.activeTextEditor!;
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), 'print("edited in the editor")\n'));
    assert.ok(editor.document.isDirty);
    const runId = runIdOf(await runCommand(uri));
    const run = await waitForEnd(runId);
    assert.equal(run.status, 'Completed');
    assert.match(readLogs(runId), /edited in the editor/);
    assert.equal(editor.document.isDirty, false);
    assert.equal(run.git?.dirty, true, 'the saved edit makes the tree dirty');
    execFileSync('git', ['checkout', '--', 'scripts/hello.py'], { cwd: workspaceRoot() });
  });

  it('marks a failing script Failed with its exit code and stderr', async () => {
    const uri = await openScript('scripts/failing.py');
    const runId = runIdOf(await runCommand(uri));
    const run = await waitForEnd(runId);
    assert.equal(run.status, 'Failed');
    assert.equal(run.exitCode, 3);
    assert.match(run.reason ?? '', /exited with code 3/);
    const logs = readLogs(runId);
    assert.match(logs, /about to fail/);
    assert.match(logs, /something went wrong in training/);
  });

  it('cancels a running run: Canceled, and no container left', async () => {
    const uri = await openScript('scripts/slow.py');
    const runId = runIdOf(await runCommand(uri));
    await waitFor('the first output line', async () => (readLogs(runId).includes('slow run started') ? true : undefined));
    assert.equal((await store().get(runId))?.status, 'Running');
    assert.equal(await vscode.commands.executeCommand('mlw.cancelRun', runId), runId);
    const run = await waitForEnd(runId);
    assert.equal(run.status, 'Canceled');
    assert.match(run.reason ?? '', /Canceled by user/);
    assert.deepEqual(containersOf(runId), []);
  });

  it('keeps the build log and fails the run when the environment image cannot be built', async () => {
    const uri = await openScript('broken-env/train.py');
    const runId = runIdOf(await runCommand(uri));
    const run = await waitForEnd(runId);
    assert.equal(run.status, 'Failed');
    assert.match(run.reason ?? '', /Image build failed/);
    const buildLog = fs.readFileSync(store().paths(runId).buildLog, 'utf8');
    assert.match(buildLog, /requirements\.txt/);
    assert.match(buildLog, /[Ii]nvalid requirement|ERROR/);
  });

  describe('clear errors', () => {
    it('refuses a file that is not Python', async () => {
      const uri = vscode.Uri.file(path.join(workspaceRoot(), 'README.md'));
      await vscode.window.showTextDocument(uri);
      assert.match(errorOf(await runCommand(uri)), /Python scripts \(\.py\)/);
    });

    it('refuses a script outside any workspace folder', async () => {
      const outside = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-outside-')), 'loose.py');
      fs.writeFileSync(outside, 'print(1)\n');
      assert.match(errorOf(await runCommand(vscode.Uri.file(outside))), /not inside an open workspace folder/);
    });

    it('says how to start Docker when it is not reachable', async () => {
      const uri = await openScript('scripts/hello.py');
      const before = (await store().list()).length;
      const error = await withSetting('dockerHost', 'unix:///tmp/mlw-no-docker-here.sock', async () => errorOf(await runCommand(uri)));
      assert.match(error, /Docker is not reachable at unix:\/\/\/tmp\/mlw-no-docker-here\.sock/);
      assert.match(error, /Start Docker/);
      assert.equal((await store().list()).length, before, 'no run record for a run that never started');
    });

    it('says how to pull or build a missing base image', async () => {
      const uri = await openScript('scripts/hello.py');
      const error = await withSetting('baseImage', 'mlw-test/no-such-image:0', async () => errorOf(await runCommand(uri)));
      assert.match(error, /Base image "mlw-test\/no-such-image:0" is not available/);
      assert.match(error, /docker pull mlw-test\/no-such-image:0/);
      assert.match(error, /npm run base-image/);
    });
  });
});
