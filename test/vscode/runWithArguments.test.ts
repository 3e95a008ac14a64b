import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, openScript, readLogs, waitForEnd, workspaceRoot } from './helpers';

const SCRIPT = 'scripts/args_train.py';
const SOURCE = (version: string) => `import argparse

import mlw

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--epochs", type=int, default=1)
args = p.parse_args()
mlw.log_params(vars(args))
print("${version} lr=%s epochs=%s" % (args.lr, args.epochs))
`;

function runIdOf(result: unknown): string {
  assert.ok(result && typeof result === 'object' && 'runId' in result, `expected a run id, got ${JSON.stringify(result)}`);
  return (result as { runId: string }).runId;
}

describe('Run with arguments, modify and rerun (real VS Code, real Docker)', () => {
  before(async () => {
    await activateExtension();
    fs.writeFileSync(path.join(workspaceRoot(), SCRIPT), SOURCE('v1'));
  });

  after(() => {
    fs.rmSync(path.join(workspaceRoot(), SCRIPT), { force: true });
    fs.rmSync(path.join(workspaceRoot(), '.mlw', 'runconfigs'), { recursive: true, force: true });
  });

  it('runs the script with an argument line, read as a shell would', async () => {
    const uri = await openScript(SCRIPT);
    const runId = runIdOf(await vscode.commands.executeCommand('mlw.runAsExperimentWithArgs', uri, `--lr 0.05 --epochs '3'`));
    const run = await waitForEnd(runId);
    assert.equal(run.status, 'Completed', run.reason);
    assert.deepEqual(run.args, ['--lr', '0.05', '--epochs', '3']);
    assert.match(readLogs(runId), /v1 lr=0\.05 epochs=3/);
    assert.deepEqual(run.params, { lr: 0.05, epochs: 3 });
  });

  it('modifies and reruns a run from its own snapshot, or from the current code, as asked', async () => {
    const uri = await openScript(SCRIPT);
    const base = runIdOf(await vscode.commands.executeCommand('mlw.runAsExperimentWithArgs', uri, '--epochs 2'));
    await waitForEnd(base);
    // The workspace moves on after the run.
    fs.writeFileSync(path.join(workspaceRoot(), SCRIPT), SOURCE('v2'));
    try {
      const same = runIdOf(await vscode.commands.executeCommand('mlw.modifyAndRerun', base, { args: '--lr 0.5 --epochs 2', from: 'snapshot' }));
      const sameRun = await waitForEnd(same);
      assert.equal(sameRun.status, 'Completed', sameRun.reason);
      assert.deepEqual(sameRun.args, ['--lr', '0.5', '--epochs', '2']);
      assert.equal(sameRun.parentId, base);
      assert.match(readLogs(same), /v1 lr=0\.5 epochs=2/, 'the snapshot of the base run ran, not the edited script');

      const current = runIdOf(await vscode.commands.executeCommand('mlw.modifyAndRerun', base, { args: ['--lr', '0.25'], from: 'workspace' }));
      const currentRun = await waitForEnd(current);
      assert.equal(currentRun.status, 'Completed', currentRun.reason);
      assert.match(readLogs(current), /v2 lr=0\.25 epochs=1/, 'the current code ran');
    } finally {
      fs.writeFileSync(path.join(workspaceRoot(), SCRIPT), SOURCE('v1'));
    }
  });

  it('offers Modify and Rerun on a finished run row, not on a multi-selection', async () => {
    const menus = vscode.extensions.getExtension('ml-workbench.ml-workbench')!.packageJSON.contributes.menus['view/item/context'] as { command: string; when: string }[];
    const entry = menus.find((m) => m.command === 'mlw.modifyAndRerun');
    assert.ok(entry && /completed\|failed/.test(entry.when) && /!listMultiSelection/.test(entry.when), JSON.stringify(entry));
  });

  it('runs the configuration whose YAML is the active editor, from the palette commands', async () => {
    const dir = path.join(workspaceRoot(), '.mlw', 'runconfigs');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'fast.yaml'), `script: ${SCRIPT}\nargs: ["--epochs", "7"]\n`);
    const doc = await vscode.workspace.openTextDocument(path.join(dir, 'fast.yaml'));
    await vscode.window.showTextDocument(doc);
    for (const command of ['mlw.runAsExperimentWithConfig', 'mlw.runAsExperiment']) {
      const runId = runIdOf(await vscode.commands.executeCommand(command));
      const run = await waitForEnd(runId);
      assert.equal(run.script, SCRIPT, command);
      assert.deepEqual(run.args, ['--epochs', '7'], command);
      assert.equal(run.options?.configName, 'fast', command);
    }
    // A configuration without a script says what to add.
    fs.writeFileSync(path.join(dir, 'noscript.yaml'), 'args: ["--epochs", "1"]\n');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(path.join(dir, 'noscript.yaml')));
    const result = (await vscode.commands.executeCommand('mlw.runAsExperiment')) as { error?: string };
    assert.match(result.error ?? '', /names no script.*Add "script: /);
  });
});
