import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WorkbenchApi } from '../../src/extension';
import type { RunsNode } from '../../src/views/runs/runsTree';
import { completedRunRecord } from '../harness/runFixtures';
import { activateExtension, openScript, store, waitFor, waitForEnd, workspaceRoot } from './helpers';

type RunNode = Extract<RunsNode, { kind: 'run' }>;

async function runOnce(rel: string, command = 'mlw.runAsExperiment'): Promise<string> {
  const uri = await openScript(rel);
  const result = (await vscode.commands.executeCommand(command, uri)) as { runId?: string; error?: string };
  assert.ok(result.runId, `run started (${result.error})`);
  return result.runId!;
}

describe('Runs view (real VS Code, real Docker)', () => {
  let api: WorkbenchApi;

  async function runNodes(): Promise<RunNode[]> {
    const provider = api.runsView.provider;
    const groups = await provider.getChildren();
    const nodes = (await Promise.all(groups.map((g) => provider.getChildren(g)))).flat();
    return nodes.filter((n): n is RunNode => n.kind === 'run');
  }

  async function nodeOf(id: string): Promise<RunNode | undefined> {
    api.runsView.provider.refresh();
    return (await runNodes()).find((n) => n.id === id);
  }

  before(async () => {
    api = await activateExtension();
    await vscode.commands.executeCommand('mlw.runs.focus');
    await waitFor('the Runs view to be visible', async () => (api.runsView.view.visible ? true : undefined), 10_000);
  });

  it('lists runs grouped by script, newest first, with status, duration, metric and a tooltip', async () => {
    const older = await runOnce('scripts/hello.py');
    await waitForEnd(older);
    const newer = await runOnce('scripts/hello.py');
    await waitForEnd(newer);
    const metricsRun = await runOnce('scripts/metrics.py');
    await waitForEnd(metricsRun);

    const provider = api.runsView.provider;
    provider.refresh();
    const groups = await provider.getChildren();
    const hello = groups.find((g) => g.kind === 'group' && g.key === 'scripts/hello.py');
    assert.ok(hello, `a group for scripts/hello.py among ${groups.map((g) => g.kind === 'group' && g.key)}`);
    const runs = (await provider.getChildren(hello)) as RunNode[];
    const ids = runs.map((r) => r.id);
    assert.ok(ids.indexOf(newer) < ids.indexOf(older), 'newest first');
    const item = provider.getTreeItem(runs[ids.indexOf(newer)]);
    assert.equal(item.contextValue, 'run.completed');
    assert.equal(item.label, `#${newer.slice(-4)}`);
    assert.equal((item.iconPath as vscode.ThemeIcon).id, 'pass');

    const metricsItem = provider.getTreeItem((await nodeOf(metricsRun))!);
    assert.match(String(metricsItem.description), /loss 0\.3333/);
    assert.match((metricsItem.tooltip as vscode.MarkdownString).value, /\*\*Params:\*\* lr=0\.1, layers=3/);
    await vscode.workspace.getConfiguration('mlw').update('primaryMetric', 'accuracy', vscode.ConfigurationTarget.Workspace);
    try {
      assert.match(String(provider.getTreeItem((await nodeOf(metricsRun))!).description), /accuracy 0\.9/);
    } finally {
      await vscode.workspace.getConfiguration('mlw').update('primaryMetric', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('follows a run live: Running (spinning) then Completed, refreshed by the view itself', async () => {
    const runId = await runOnce('scripts/counter.py');
    const seen = new Set<string>();
    const statusInTree = async () => {
      const node = (await runNodes()).find((n) => n.id === runId);
      if (node) seen.add(String(api.runsView.provider.getTreeItem(node).contextValue));
      return node;
    };
    // No explicit refresh here: the view must pick the changes up from the store and the file watcher.
    await waitFor('Running in the tree', async () => {
      const n = await statusInTree();
      return n?.run.status === 'Running' ? true : undefined;
    });
    const running = api.runsView.provider.getTreeItem((await statusInTree())!);
    assert.equal((running.iconPath as vscode.ThemeIcon).id, 'sync~spin');
    await waitFor('Completed in the tree', async () => ((await statusInTree())?.run.status === 'Completed' ? true : undefined));
    assert.ok(seen.has('run.running') && seen.has('run.completed'), [...seen].join(','));
  });

  it('rename, label and star change what the tree shows; filters narrow it', async () => {
    const runId = await runOnce('scripts/hello.py');
    await waitForEnd(runId);
    const node = (await nodeOf(runId))!;
    assert.equal(await vscode.commands.executeCommand('mlw.renameRun', node, 'baseline'), 'baseline');
    assert.deepEqual(await vscode.commands.executeCommand('mlw.tagRun', node, ['best', ' keep ', 'best']), ['best', 'keep']);
    await vscode.commands.executeCommand('mlw.starRun', node);
    const item = api.runsView.provider.getTreeItem((await nodeOf(runId))!);
    assert.equal(item.label, 'baseline');
    assert.equal(item.contextValue, 'run.completed.starred');
    assert.match(String(item.description), /^★/);

    await vscode.commands.executeCommand('mlw.runs.showStarredOnly');
    assert.deepEqual((await runNodes()).map((n) => n.id), [runId]);
    await vscode.commands.executeCommand('mlw.filterRuns', { tag: 'best' });
    assert.deepEqual((await runNodes()).map((n) => n.id), [runId]);
    await vscode.commands.executeCommand('mlw.filterRuns', { statuses: ['Failed'] });
    assert.ok((await runNodes()).every((n) => n.run.status === 'Failed'));
    await vscode.commands.executeCommand('mlw.filterRuns', { text: 'baseline' });
    assert.deepEqual((await runNodes()).map((n) => n.id), [runId]);
    assert.match(api.runsView.view.message ?? '', /Filtered: "baseline"/);
    await vscode.commands.executeCommand('mlw.clearRunFilter');
    assert.equal(api.runsView.view.message, undefined);
    assert.ok((await runNodes()).length > 3);

    await vscode.commands.executeCommand('mlw.unstarRun', (await nodeOf(runId))!);
    assert.equal(api.runsView.provider.getTreeItem((await nodeOf(runId))!).contextValue, 'run.completed');
  });

  it('groups by run configuration on request', async () => {
    await vscode.commands.executeCommand('mlw.runs.groupByConfig');
    try {
      const keys = (await api.runsView.provider.getChildren()).map((g) => (g.kind === 'group' ? g.key : ''));
      assert.ok(keys.includes('(no run configuration)'), keys.join(','));
    } finally {
      await vscode.commands.executeCommand('mlw.runs.groupByScript');
    }
  });

  it('cancel and rerun from a tree item; logs and outputs open from it', async () => {
    const slow = await runOnce('scripts/slow.py');
    await waitFor('Running', async () => ((await store().get(slow))?.status === 'Running' ? true : undefined));
    await vscode.commands.executeCommand('mlw.cancelRun', (await nodeOf(slow))!);
    assert.equal((await waitForEnd(slow)).status, 'Canceled');

    const base = await runOnce('scripts/hello.py');
    await waitForEnd(base);
    const rerun = (await vscode.commands.executeCommand('mlw.rerun', (await nodeOf(base))!)) as { runId: string };
    assert.equal((await waitForEnd(rerun.runId)).parentId, base);

    const doc = (await vscode.commands.executeCommand('mlw.openRunLogs', (await nodeOf(base))!)) as vscode.TextDocument;
    assert.equal(doc.uri.scheme, 'mlw-log');
    assert.match(doc.getText(), /hello from the experiment/);
    const outputs = (await vscode.commands.executeCommand('mlw.openOutputs', (await nodeOf(base))!)) as vscode.Uri;
    assert.equal(outputs.fsPath, store().paths(base).outputs);
  });

  it('deletes runs (multi-select) with their containers, files and now-unused environment image', async () => {
    const dir = path.join(workspaceRoot(), 'envtest');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'train.py'), 'print("env test")\n');
    fs.writeFileSync(path.join(dir, 'requirements.txt'), `joblib\n# unique ${Date.now()}\n`);
    const a = await runOnce('envtest/train.py');
    const runA = await waitForEnd(a);
    const b = await runOnce('envtest/train.py');
    await waitForEnd(b);
    assert.equal(runA.environment?.kind, 'requirements');
    const tag = runA.environment!.imageTag;
    assert.equal(execFileSync('docker', ['images', '-q', tag], { encoding: 'utf8' }).trim().length > 0, true);

    const nodes = [(await nodeOf(a))!, (await nodeOf(b))!];
    const result = (await vscode.commands.executeCommand('mlw.deleteRun', nodes[0], nodes, true)) as { deleted: string[]; imagesRemoved: string[] };
    assert.deepEqual(result.deleted.sort(), [a, b].sort());
    assert.deepEqual(result.imagesRemoved, [tag]);
    assert.equal(fs.existsSync(store().paths(a).dir), false);
    assert.equal(execFileSync('docker', ['images', '-q', tag], { encoding: 'utf8' }).trim(), '');
    assert.equal(await nodeOf(a), undefined);
    fs.rmSync(dir, { recursive: true });
  });

  it('refuses to delete a run that is still going', async () => {
    const slow = await runOnce('scripts/slow.py');
    await waitFor('Running', async () => ((await store().get(slow))?.status === 'Running' ? true : undefined));
    const result = await vscode.commands.executeCommand('mlw.deleteRun', slow, undefined, true);
    assert.equal(result, undefined);
    assert.ok(fs.existsSync(store().paths(slow).dir));
    await vscode.commands.executeCommand('mlw.cancelRun', slow);
    await waitForEnd(slow);
  });

  it('cleans up failed runs but keeps starred ones', async () => {
    const keep = await runOnce('scripts/failing.py');
    await waitForEnd(keep);
    await vscode.commands.executeCommand('mlw.starRun', keep);
    const drop = await runOnce('scripts/failing.py');
    await waitForEnd(drop);
    const result = (await vscode.commands.executeCommand('mlw.cleanUp', { statuses: ['Failed'] }, true)) as { deleted: string[] };
    assert.ok(result.deleted.includes(drop));
    assert.ok(!result.deleted.includes(keep));
    assert.ok(fs.existsSync(store().paths(keep).dir));
    assert.equal((await store().list()).filter((r) => r.status === 'Failed' && !r.starred).length, 0);
  });

  it('rebuilds the run index when it is deleted, listing the same runs', async () => {
    api.runsView.provider.refresh();
    const before = (await runNodes()).map((n) => n.id).sort();
    fs.rmSync(path.join(workspaceRoot(), '.mlw', 'index.jsonl'), { force: true });
    api.runsView.provider.refresh();
    const after = (await runNodes()).map((n) => n.id).sort();
    assert.deepEqual(after, before);
    assert.ok(fs.existsSync(path.join(workspaceRoot(), '.mlw', 'index.jsonl')), 'the index was written again');
  });

  it('shows run-provided names in the tooltip as typed: no links, images or HTML get through', async () => {
    const id = '20261201-000002-hostile';
    await store().create(completedRunRecord(id, {
      name: '[click](http://127.0.0.1:9/x)',
      labels: ['<img src=x onerror=alert(1)>'],
      metrics: { '![i](http://127.0.0.1:9/i.png)': 1 },
      params: { '# heading': 'a`b`' },
      reason: '- not a list',
    }));
    try {
      const node = await waitFor('the hostile run in the tree', () => nodeOf(id));
      const md = (api.runsView.provider.getTreeItem(node).tooltip as vscode.MarkdownString).value;
      assert.doesNotMatch(md, /(?<!\\)\]\(/, 'an unescaped link or image');
      assert.doesNotMatch(md, /(?<!\\)<img/, 'unescaped HTML');
      assert.match(md, /\\\[click\\\]\\\(http/);
      assert.match(md, /\\- not a list/);
    } finally {
      await store().delete(id);
    }
  });
});
