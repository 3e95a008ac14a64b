import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TRACKING_FILE, readTracking } from '../../src/model/runs/tracking';
import { REPO_ROOT } from '../harness/testWorkspace';
import { activateExtension, openScript, readLogs, store, waitFor, waitForEnd, workspaceRoot } from './helpers';

function runIdOf(result: unknown): string {
  assert.ok(result && typeof result === 'object' && 'runId' in result, `expected a run id, got ${JSON.stringify(result)}`);
  return (result as { runId: string }).runId;
}

function writeConfig(name: string, text: string): void {
  const dir = path.join(workspaceRoot(), '.mlw', 'runconfigs');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.yaml`), text);
}

describe('Experiments: configs, metrics, lineage, reattach (real VS Code, real Docker)', () => {
  before(async () => {
    await activateExtension();
  });

  it('"Run as Experiment…" runs with the chosen run configuration', async () => {
    writeConfig('tuned', 'args: ["--tuned"]\nenv:\n  SEED: 11\nnetwork: none\ntimeout: 10m\n');
    const uri = await openScript('scripts/hello.py');
    const runId = runIdOf(await vscode.commands.executeCommand('mlw.runAsExperimentWithConfig', uri, 'tuned'));
    const run = await waitForEnd(runId);
    assert.equal(run.status, 'Completed', run.reason);
    assert.deepEqual(run.args, ['--tuned']);
    assert.equal(run.options?.configName, 'tuned');
    assert.equal(run.options?.network, 'none');
    assert.equal(run.options?.timeoutSeconds, 600);
    assert.match(readLogs(runId), /args: --tuned/);
  });

  it('plain "Run as Experiment" uses the "default" run configuration when there is one', async () => {
    writeConfig('default', 'args: ["--from-default"]\n');
    try {
      const uri = await openScript('scripts/hello.py');
      const runId = runIdOf(await vscode.commands.executeCommand('mlw.runAsExperiment', uri));
      await waitForEnd(runId);
      assert.match(readLogs(runId), /args: --from-default/);
    } finally {
      fs.rmSync(path.join(workspaceRoot(), '.mlw', 'runconfigs', 'default.yaml'));
    }
  });

  it('an invalid run configuration gives an error naming the file, the key and the reason', async () => {
    writeConfig('broken', 'netwrok: none\n');
    const uri = await openScript('scripts/hello.py');
    const result = (await vscode.commands.executeCommand('mlw.runAsExperimentWithConfig', uri, 'broken')) as { error?: string };
    assert.match(result.error ?? '', /broken\.yaml: netwrok: .*did you mean "network"/);
  });

  it('shows metrics while the run is going and keeps the final values in the record', async () => {
    const uri = await openScript('scripts/metrics.py');
    const runId = runIdOf(await vscode.commands.executeCommand('mlw.runAsExperiment', uri));
    const events = path.join(store().paths(runId).tracking, TRACKING_FILE);
    await waitFor('live metrics', async () => ((await readTracking(events)).metrics.loss?.length === 3 ? true : undefined));
    assert.equal((await store().get(runId))?.status, 'Running');
    const run = await waitForEnd(runId);
    assert.deepEqual(run.metrics, { loss: 1 / 3, accuracy: 0.9 });
    assert.deepEqual(run.params, { lr: 0.1, layers: 3 });
  });

  it('reruns a run (same image and snapshot), diffs its code against the workspace, and restores it', async () => {
    const uri = await openScript('scripts/hello.py');
    const parentId = runIdOf(await vscode.commands.executeCommand('mlw.runAsExperiment', uri));
    const parent = await waitForEnd(parentId);
    const script = path.join(workspaceRoot(), 'scripts', 'hello.py');
    const original = fs.readFileSync(script, 'utf8');
    fs.writeFileSync(script, original + 'print("edited after the run")\n');

    const childId = runIdOf(await vscode.commands.executeCommand('mlw.rerun', parentId));
    const child = await waitForEnd(childId);
    assert.equal(child.parentId, parentId);
    assert.equal(child.imageId, parent.imageId);
    assert.equal(child.snapshot?.hash, parent.snapshot?.hash);
    assert.doesNotMatch(readLogs(childId), /edited after the run/);

    const diff = (await vscode.commands.executeCommand('mlw.showSnapshotDiff', parentId)) as { changed: string[]; opened?: string };
    assert.deepEqual(diff.changed, ['scripts/hello.py']);
    assert.equal(diff.opened, 'scripts/hello.py');
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab?.input instanceof vscode.TabInputTextDiff, 'a diff editor is open');

    const restored = (await vscode.commands.executeCommand('mlw.restoreSnapshot', parentId, true)) as { restored: string[] };
    assert.deepEqual(restored.restored, ['scripts/hello.py']);
    assert.equal(fs.readFileSync(script, 'utf8'), original);
  });

  it('reattaches to a run whose CLI was killed, finishing it without duplicated log lines', async () => {
    const api = await activateExtension();
    const mlw = path.join(REPO_ROOT, 'bin', 'mlw');
    const child = spawn(mlw, ['run', 'scripts/counter.py', '--', '50'], { cwd: workspaceRoot(), stdio: 'ignore', env: { ...process.env, MLW_BASE_IMAGE: '' } });
    const runId = await waitFor('the CLI run to write logs', async () => {
      const run = (await store().list()).find((r) => r.script === 'scripts/counter.py' && r.status === 'Running');
      return run && readLogs(run.id).includes('line 0002') ? run.id : undefined;
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const touched = await api.runs.reconcileAll();
    assert.ok(touched.some((r) => r.id === runId), 'the orphaned run was reconciled');
    const run = await waitForEnd(runId);
    assert.equal(run.status, 'Completed', run.reason);
    const logs = readLogs(runId);
    const expected = Array.from({ length: 50 }, (_, i) => `line ${String(i).padStart(4, '0')} ${'x'.repeat(i % 50)}\n`).join('') + 'counter done\n';
    assert.equal(logs, expected);
    assert.deepEqual(execFileSync('docker', ['ps', '-aq', '--filter', `label=mlw.run-id=${runId}`], { encoding: 'utf8' }).trim(), '');
  });
});
