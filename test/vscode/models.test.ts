import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WorkbenchApi } from '../../src/extension';
import type { ModelVersion } from '../../src/model/models/modelVersion';
import type { ModelsNode } from '../../src/views/models/modelsTree';
import { completedRunRecord } from '../harness/runFixtures';
import { REPO_ROOT } from '../harness/testWorkspace';
import { activateExtension, store, waitFor, workspaceRoot } from './helpers';

type VersionNode = Extract<ModelsNode, { kind: 'version' }>;

describe('Models view and Register Model (real VS Code)', () => {
  let api: WorkbenchApi;
  const runId = '20261201-090000-40de11aa';

  async function versionRows(name: string): Promise<{ node: VersionNode; item: vscode.TreeItem }[]> {
    const provider = api.modelsView.provider;
    const model = (await provider.getChildren()).find((n) => n.kind === 'model' && n.name === name);
    if (!model) return [];
    return ((await provider.getChildren(model)) as VersionNode[]).map((node) => ({ node, item: provider.getTreeItem(node) }));
  }

  before(async () => {
    api = await activateExtension();
    const runs = store();
    await runs.create(completedRunRecord(runId, { script: 'train.py', params: { C: 0.5 }, metrics: { accuracy: 0.973 }, artifacts: ['model.pkl'] }));
    const outputs = runs.paths(runId).outputs;
    fs.mkdirSync(outputs, { recursive: true });
    fs.writeFileSync(path.join(outputs, 'model.pkl'), 'pickled bytes');
    await vscode.commands.executeCommand('mlw.models.focus');
    await waitFor('the Models view to be visible', async () => (api.modelsView.view.visible ? true : undefined), 10_000);
  });

  after(() => {
    fs.rmSync(path.join(workspaceRoot(), '.mlw', 'models', 'iris'), { recursive: true, force: true });
  });

  it('registers a run output from the command and shows the version with its key metric and source run', async () => {
    const v = (await vscode.commands.executeCommand('mlw.registerModel', runId, 'outputs/model.pkl', { name: 'iris', description: 'first' })) as ModelVersion;
    assert.equal(v.version, 1, JSON.stringify(v));
    const rows = await waitFor('iris v1 in the Models view', async () => ((await versionRows('iris')).length === 1 ? versionRows('iris') : undefined), 10_000);
    assert.equal(rows[0].item.label, 'v1');
    assert.equal(rows[0].item.description, 'accuracy 0.973 · run #11aa');
    assert.equal(rows[0].item.contextValue, 'modelVersion.run');
    assert.match((rows[0].item.tooltip as vscode.MarkdownString).value, /C=0\.5/);
  });

  it('shows a version another process registered (mlw model register in a terminal), newest first', async () => {
    const r = spawnSync(path.join(REPO_ROOT, 'bin', 'mlw'), ['model', 'register', runId, 'model.pkl', '--name', 'iris'], { cwd: workspaceRoot(), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rows = await waitFor('iris v2 from the CLI in the Models view', async () => {
      const now = await versionRows('iris');
      return now.length === 2 ? now : undefined;
    }, 15_000);
    assert.deepEqual(rows.map((row) => row.item.label), ['v2', 'v1']);
  });

  it('registers a run output picked in the explorer with the run\'s lineage', async () => {
    const file = vscode.Uri.file(path.join(store().paths(runId).outputs, 'model.pkl'));
    const v = (await vscode.commands.executeCommand('mlw.registerModel', file, undefined, { name: 'iris' })) as ModelVersion;
    assert.equal(v.version, 3);
    assert.equal(v.source.kind, 'run');
    assert.equal(v.source.kind === 'run' && v.source.runId, runId);
  });

  it('sets an alias shown on the row, and deletes a version', async () => {
    const [v3] = await versionRows('iris');
    assert.equal(await vscode.commands.executeCommand('mlw.models.setAlias', v3.node, 'production'), 'production');
    await waitFor('@production on v3', async () => ((await versionRows('iris'))[0].item.description as string).startsWith('@production') || undefined, 10_000);
    const v1 = (await versionRows('iris')).find((r) => r.node.version === 1)!;
    assert.equal(await vscode.commands.executeCommand('mlw.models.deleteVersion', v1.node, true), true);
    await waitFor('v1 gone from the view', async () => ((await versionRows('iris')).map((r) => r.item.label).join() === 'v3,v2' ? true : undefined), 10_000);
  });

  it('reveals the source run in Run details', async () => {
    const [v3] = await versionRows('iris');
    const panel = await vscode.commands.executeCommand('mlw.models.openSourceRun', v3.node);
    assert.ok(panel, 'a details panel opened');
    assert.ok(api.runDetails.current(runId), `the details of ${runId} are open`);
  });

  it('says why a run that wrote nothing cannot give a model, and refuses a bad name', async () => {
    const err = (await vscode.commands.executeCommand('mlw.registerModel', runId, 'outputs/nothing.pkl', { name: 'iris' })) as { error: string };
    assert.match(err.error, /outputs\/nothing\.pkl does not exist in run .*'s outputs; it has model\.pkl/);
    const bad = (await vscode.commands.executeCommand('mlw.registerModel', runId, 'model.pkl', { name: 'no spaces' })) as { error: string };
    assert.match(bad.error, /not a valid model name/);
  });
});
