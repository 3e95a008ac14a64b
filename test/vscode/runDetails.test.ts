import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
// Types only: the panels live in the extension's bundle (dist/extension.js); tests reach them through its API.
import type { WorkbenchApi } from '../../src/extension';
import type { HandledMessage, RunDetailsPanel } from '../../src/views/details/runDetailsPanel';
import { RUN_DETAILS_VIEW_TYPE } from '../../src/views/protocol/runDetails';
import { waitForRunState } from './runDetailsHelpers';
import { EXTENSION_ID, activateExtension, openScript, store, waitFor, waitForEnd } from './helpers';
import { WEBVIEW_TIMEOUT_MS, assertStrictPage, nextHandled, postFromWebview, waitForRender } from './panelHelpers';


function runIdOf(result: unknown): string {
  assert.ok(result && typeof result === 'object' && 'runId' in result, `expected a run id, got ${JSON.stringify(result)}`);
  return (result as { runId: string }).runId;
}

/** The panel comes back from the command itself (the command is what users run). */
async function openDetails(runId: string): Promise<RunDetailsPanel> {
  const panel = (await vscode.commands.executeCommand('mlw.openRunDetails', runId)) as RunDetailsPanel | undefined;
  assert.ok(panel && typeof panel.refresh === 'function', 'mlw.openRunDetails returns the panel');
  return panel;
}

async function showPanel(panel: RunDetailsPanel): Promise<void> {
  if (panel.panel.visible) return;
  const before = panel.stateVersion;
  panel.panel.reveal(vscode.ViewColumn.Active);
  // Hidden webviews are torn down; shown again, the page says ready and gets the full state anew (a new version).
  await waitFor('the panel to render again', async () => (panel.panel.visible && (panel.lastRendered?.version ?? 0) > before ? true : undefined), WEBVIEW_TIMEOUT_MS);
}

function activeEditorPath(): string | undefined {
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
  return tab?.input instanceof vscode.TabInputText ? tab.input.uri.fsPath : vscode.window.activeTextEditor?.document.uri.fsPath;
}

describe('Run details webview (real VS Code, real Docker)', () => {
  let extensionUri: vscode.Uri;
  let api: WorkbenchApi;
  let runId: string;
  let panel: RunDetailsPanel;
  const opened: RunDetailsPanel[] = [];

  before(async () => {
    api = await activateExtension();
    extensionUri = vscode.extensions.getExtension(EXTENSION_ID)!.extensionUri;
    assert.ok((await vscode.commands.getCommands(true)).includes('mlw.openRunDetails'), 'the extension registers mlw.openRunDetails');
  });

  after(async () => {
    for (const p of opened) p.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('follows a run live, then shows its params, metrics, outputs and lineage, with a sparkline per metric', async () => {
    const uri = await openScript('scripts/metrics.py');
    runId = runIdOf(await vscode.commands.executeCommand('mlw.runAsExperiment', uri));
    panel = await openDetails(runId);
    opened.push(panel);
    await waitForRunState(panel, 'a live state of the running run', (s) => s.summary.status === 'Running', WEBVIEW_TIMEOUT_MS);
    assert.equal(panel.panel.title, `Run ${runId.slice(-4)} — scripts/metrics.py`);

    await waitForEnd(runId);
    // What a script writes to $MLW_OUTPUTS, plus a link leading out of the folder (which must never be offered).
    const outputs = store().paths(runId).outputs;
    fs.mkdirSync(path.join(outputs, 'plots'), { recursive: true });
    fs.writeFileSync(path.join(outputs, 'report.txt'), 'accuracy 0.9\n');
    fs.writeFileSync(path.join(outputs, 'plots', 'curve.csv'), 'step,loss\n0,1\n');
    fs.symlinkSync('../run.json', path.join(outputs, 'leak.txt'));

    // No command refreshes the panel: the change feed (and the look after the run ends) has to see the record and the new outputs.
    const state = await waitForRunState(panel, 'the final state with the outputs', (s) => s.summary.terminal && s.outputs.length === 2);
    assert.equal(state.summary.status, 'Completed', state.summary.reason);
    assert.equal(state.summary.exitCode, 0);
    assert.equal(state.summary.script, 'scripts/metrics.py');
    assert.ok(state.summary.startedAt && state.summary.endedAt);
    assert.deepEqual(state.timeline.map((e) => e.label), ['Created', 'Started', 'Ended']);
    assert.deepEqual(state.params, [{ name: 'lr', value: '0.1' }, { name: 'layers', value: '3' }]);
    assert.deepEqual(state.tags, [{ name: 'stage', value: 'test' }]);
    const metrics = Object.fromEntries(state.metrics.map((m) => [m.name, m]));
    assert.deepEqual(Object.keys(metrics), ['loss', 'accuracy']);
    assert.equal(metrics.loss.last, 1 / 3);
    assert.equal(metrics.loss.min, 1 / 3);
    assert.equal(metrics.loss.max, 1);
    assert.equal(metrics.loss.points, 3);
    assert.deepEqual(metrics.loss.series.map((p) => p.x), [0, 1, 2]);
    assert.equal(metrics.accuracy.last, 0.9);
    assert.equal(metrics.accuracy.goal, 'max');
    assert.equal(metrics.accuracy.best, 0.9);
    assert.deepEqual(state.outputs.map((o) => o.path), ['plots/curve.csv', 'report.txt']);
    assert.deepEqual(state.skippedOutputs.map((s) => s.path), ['leak.txt']);
    assert.match(state.git?.commit ?? '', /^[0-9a-f]{7,40}$/);
    assert.equal(state.git?.branch, 'main');
    assert.ok(state.environment?.imageTag, 'the environment image is shown');
    assert.ok(state.hasLogs);

    // The webview drew one sparkline per metric with Vega under the strict CSP (no eval): proof of the round trip.
    const rendered = await waitForRender(panel);
    assert.equal(rendered.sparklines, 2);
    assert.deepEqual(rendered.errors ?? [], []);
  });

  it('serves the page under a strict CSP with local resources only', () => {
    assertStrictPage(panel, extensionUri);
  });

  it('opens a listed output from the webview and refuses anything else', async () => {
    const clicked = nextHandled(panel, (h) => h.intent?.type === 'openOutput');
    await panel.postTest({ type: 'test:click', testId: 'open-output:report.txt' });
    const handled = await clicked;
    assert.equal(handled.outcome, 'done', handled.detail);
    assert.deepEqual(handled.intent, { type: 'openOutput', path: 'report.txt' });
    const report = path.join(store().paths(runId).outputs, 'report.txt');
    await waitFor('report.txt to open', async () => (activeEditorPath() && fs.realpathSync(activeEditorPath()!) === fs.realpathSync(report) ? true : undefined), WEBVIEW_TIMEOUT_MS);

    await showPanel(panel);
    const refusals: [unknown, HandledMessage['outcome']][] = [
      [{ type: 'openOutput', path: '../run.json' }, 'refused'],
      [{ type: 'revealOutput', path: '../run.json' }, 'refused'],
      [{ type: 'openOutput', path: 'leak.txt' }, 'refused'], // a link leading outside: not listed
      [{ type: 'openOutput', path: '/etc/passwd' }, 'refused'],
      [{ type: 'openRun', id: '20000101-000000-0000' }, 'refused'], // not the run's parent
      [{ type: 'openFile', which: '../../run.json' }, 'invalid'],
      [{ type: 'openOutput', path: 42 }, 'invalid'],
      [{ type: 'runShell', command: 'rm -rf /' }, 'invalid'],
    ];
    for (const [message, outcome] of refusals) {
      const h = await postFromWebview(panel, message);
      assert.equal(h.outcome, outcome, `${JSON.stringify(message)}: ${h.detail}`);
    }
    assert.notEqual(activeEditorPath(), store().paths(runId).record, 'run.json was not opened');
    assert.ok(panel.panel.visible, 'nothing replaced the panel');
  });

  it('opens the logs and shows the code diff from their buttons', async () => {
    const logs = nextHandled(panel, (h) => h.intent?.type === 'openFile');
    await panel.postTest({ type: 'test:click', testId: 'open-logs' });
    assert.equal((await logs).outcome, 'done');
    await waitFor('logs.txt to open', async () => (activeEditorPath() === store().paths(runId).logs ? true : undefined), WEBVIEW_TIMEOUT_MS);

    await showPanel(panel);
    const diff = nextHandled(panel, (h) => h.intent?.type === 'showDiff');
    await panel.postTest({ type: 'test:click', testId: 'show-diff' });
    assert.equal((await diff).outcome, 'done', (await diff).detail);
    // The diff command may be asking which file to compare; leave no quick pick open for the next tests.
    await new Promise((r) => setTimeout(r, 500));
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
  });

  it("links a rerun to its parent and opens the parent's details from the link", async () => {
    const childId = runIdOf(await vscode.commands.executeCommand('mlw.rerun', runId));
    await waitForEnd(childId);
    const child = await openDetails(childId);
    opened.push(child);
    assert.notEqual(child, panel, 'one panel per run');
    await waitForRunState(child, 'the rerun state', (s) => s.summary.terminal && s.summary.parentId === runId, WEBVIEW_TIMEOUT_MS);
    await waitForRender(child);
    assert.equal(child.lastRendered?.sparklines, 2);

    const clicked = nextHandled(child, (h) => h.intent?.type === 'openRun');
    await child.postTest({ type: 'test:click', testId: `open-run:${runId}` });
    assert.equal((await clicked).outcome, 'done', (await clicked).detail);
    await waitFor('the parent panel to be active', async () => (panel.panel.active ? true : undefined), WEBVIEW_TIMEOUT_MS);
    assert.equal(await openDetails(runId), panel, 'opening again reveals the existing panel');
    assert.equal(api.runDetails.current(runId), panel);
  });

  it('restores a panel from the state its webview saved (window reload)', async () => {
    const folder = vscode.workspace.workspaceFolders![0];
    const bogus = vscode.window.createWebviewPanel(RUN_DETAILS_VIEW_TYPE, 'restored', vscode.ViewColumn.Active);
    assert.equal(await api.runDetails.revive(bogus, { runId: '20000101-000000-dead', folder: folder.uri.toString() }), undefined, 'an unknown run is not restored');
    const twin = vscode.window.createWebviewPanel(RUN_DETAILS_VIEW_TYPE, 'restored', vscode.ViewColumn.Active);
    assert.equal(await api.runDetails.revive(twin, { runId, folder: folder.uri.toString() }), undefined, 'a run that has a panel gets no second one');
    // As after a reload: no panel for the run, and VS Code hands over a bare one with the saved state.
    api.runDetails.current(runId)?.dispose();
    assert.equal(api.runDetails.current(runId), undefined);
    const restoredPanel = vscode.window.createWebviewPanel(RUN_DETAILS_VIEW_TYPE, 'restored', vscode.ViewColumn.Active);
    const restored = await api.runDetails.revive(restoredPanel, { runId, folder: folder.uri.toString() });
    assert.ok(restored, 'the saved run is restored');
    opened.push(restored);
    await waitForRunState(restored, 'the restored state', (s) => s.runId === runId && s.summary.terminal, WEBVIEW_TIMEOUT_MS);
    assert.equal((await waitForRender(restored)).sparklines, 2);
    assert.equal(restored.panel.title, `Run ${runId.slice(-4)} — scripts/metrics.py`);
    assertStrictPage(restored, extensionUri);
  });
});
