import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
// Types only: the panels live in the extension's bundle (dist/extension.js); tests reach them through its API.
import type { WorkbenchApi } from '../../src/extension';
import type { ComparePanel, HandledMessage } from '../../src/views/compare/comparePanel';
import { COMPARE_VIEW_TYPE, ToWebview } from '../../src/views/protocol/compare';
import { EXTENSION_ID, activateExtension, openScript, store, waitFor, waitForEnd } from './helpers';
import { WEBVIEW_TIMEOUT_MS, assertStrictPage, nextHandled, postFromWebview, waitForRender, waitForState } from './panelHelpers';


function runIdOf(result: unknown): string {
  assert.ok(result && typeof result === 'object' && 'runId' in result, `expected a run id, got ${JSON.stringify(result)}`);
  return (result as { runId: string }).runId;
}

/** The panel comes back from the command (the command is what users run). */
async function compare(ids: string[]): Promise<ComparePanel> {
  const panel = (await vscode.commands.executeCommand('mlw.compareRuns', undefined, undefined, ids)) as ComparePanel | undefined;
  assert.ok(panel && typeof panel.refresh === 'function', 'mlw.compareRuns returns the panel');
  return panel;
}

describe('Compare runs webview (real VS Code, real Docker)', () => {
  let extensionUri: vscode.Uri;
  let api: WorkbenchApi;
  const ids: string[] = [];
  let panel: ComparePanel;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-compare-'));

  before(async () => {
    api = await activateExtension();
    extensionUri = vscode.extensions.getExtension(EXTENSION_ID)!.extensionUri;
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('mlw.compareRuns') && commands.includes('mlw.compareWithBest'), 'the extension registers the compare commands');
  });

  after(async () => {
    panel?.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('compares three runs of scripts/metrics.py live, then shows their curves, finals and table', async () => {
    const uri = await openScript('scripts/metrics.py');
    for (let i = 0; i < 3; i++) ids.push(runIdOf(await vscode.commands.executeCommand('mlw.runAsExperiment', uri)));
    panel = await compare(ids);
    assert.equal(panel.panel.title, 'Compare 3 runs');
    await waitForState(panel, 'a state with a live run', (s) => s.runs.some((r) => !r.terminal), WEBVIEW_TIMEOUT_MS);
    for (const id of ids) await waitForEnd(id);

    // No command refreshes the panel: the change feed (or the live poll) has to see the runs end.
    const state = await waitForState(panel, 'every run ended with both metrics', (s) => s.runs.every((r) => r.terminal) && s.runs.every((r) => 'accuracy' in r.finals));
    assert.deepEqual(state.runs.map((r) => r.id), ids);
    assert.ok(state.runs.every((r) => r.status === 'Completed'));
    assert.deepEqual(state.metrics.map((m) => [m.name, m.goal, m.goalSource]), [['loss', 'min', 'name'], ['accuracy', 'max', 'tracking']]);
    assert.deepEqual(state.metrics.find((m) => m.name === 'accuracy')?.best, { value: 0.9, runIds: ids });
    assert.deepEqual(state.params, ['lr', 'layers']);
    assert.equal(state.series.filter((s) => s.metric === 'loss').length, 3);
    assert.deepEqual(state.series.find((s) => s.metric === 'loss')?.values, [1, 0.5, 1 / 3]);
    const columns = Object.fromEntries(state.table.columns.map((c) => [c.key, c]));
    assert.equal(columns['param:lr'].differs, false, 'same params in every run');
    assert.equal(new Set(state.runs.map((r) => r.commit)).size, 1, 'one commit');
    // The first run adds .mlw/.gitignore (untracked), so later runs may be dirty: that is a difference to show.
    assert.equal(columns.commit.differs, new Set(state.runs.map((r) => r.dirty)).size > 1);

    const rendered = await waitForRender(panel);
    assert.deepEqual(rendered.errors ?? [], []);
    const charts = Object.fromEntries(rendered.charts.map((c) => [c.id, c.series]));
    assert.deepEqual(charts, { 'bar:accuracy': 3, 'bar:loss': 3, 'line:accuracy': 3, 'line:loss': 3, parallel: 3, scatter: 3 });
  });

  it('appends points that arrive later without posting a new state', async () => {
    const version = panel.stateVersion;
    const posted: ToWebview[] = [];
    const sub = panel.onDidPost((m) => posted.push(m));
    try {
      const events = path.join(store().paths(ids[1]).tracking, 'events.jsonl');
      const t = Date.now() / 1000;
      fs.appendFileSync(events, `${JSON.stringify({ kind: 'metric', name: 'loss', value: 0.2, step: 3, t })}\n${JSON.stringify({ kind: 'metric', name: 'loss', value: 0.1, step: 4, t: t + 1 })}\n`);
      const appended = await waitFor('the webview to apply the appended points', async () => (panel.lastAppended?.runId === ids[1] ? panel.lastAppended : undefined), WEBVIEW_TIMEOUT_MS);
      assert.deepEqual(appended, { type: 'appended', version, runId: ids[1], metric: 'loss', points: 5, errors: [] });
      const append = posted.find((m) => m.type === 'append');
      assert.deepEqual(append && append.type === 'append' ? append.points : undefined, { steps: [3, 4], times: append && append.type === 'append' ? append.points.times : [], values: [0.2, 0.1] });
      assert.equal(panel.stateVersion, version, 'no full state was posted');
      assert.ok(!posted.some((m) => m.type === 'state'));
      assert.equal(panel.lastState?.runs[1].finals.loss, 0.1, "the panel's state follows too");
    } finally {
      sub.dispose();
    }
  });

  it('exports the table as CSV from the webview button, and charts as SVG and PNG', async () => {
    const csvFile = path.join(tmp, 'runs.csv');
    panel.queueSaveTarget(csvFile);
    const clicked = nextHandled(panel, (h) => h.intent?.type === 'exportCsv');
    await panel.postTest({ type: 'test:click', testId: 'export-csv' });
    const handled = await clicked;
    assert.equal(handled.outcome, 'done', handled.detail);
    const lines = fs.readFileSync(csvFile, 'utf8').split('\r\n');
    assert.equal(lines[0], 'run id,run,status,duration (s),commit,lr,layers,loss,accuracy');
    assert.equal(lines.length, 5);
    for (const id of ids) assert.ok(lines.some((l) => l.startsWith(`${id},`) && l.includes(',Completed,') && l.endsWith(',0.9')), `${id} in ${lines.join('|')}`);

    const svgFile = path.join(tmp, 'loss.svg');
    panel.queueSaveTarget(svgFile);
    assert.equal((await panel.exportChart('line:loss', 'svg'))?.fsPath, svgFile);
    assert.match(fs.readFileSync(svgFile, 'utf8'), /^<svg[\s\S]*<\/svg>$/);
    const pngFile = path.join(tmp, 'parallel.png');
    panel.queueSaveTarget(pngFile);
    await panel.exportChart('parallel', 'png');
    assert.equal(fs.readFileSync(pngFile).subarray(1, 4).toString(), 'PNG');
  });

  it('keeps what the user picks and refuses what it must', async () => {
    const setView = nextHandled(panel, (h) => h.intent?.type === 'setView');
    await panel.postTest({ type: 'test:click', testId: 'metric:accuracy' });
    assert.equal((await setView).outcome, 'done');
    assert.deepEqual(panel.lastState?.view.metrics, ['loss']);
    await waitFor('the charts without accuracy', async () => (panel.lastRendered && !panel.lastRendered.charts.some((c) => c.id === 'line:accuracy') ? true : undefined), WEBVIEW_TIMEOUT_MS);

    const refusals: [unknown, HandledMessage['outcome']][] = [
      [{ type: 'openRun', id: '20000101-000000-0000' }, 'refused'], // not a compared run
      [{ type: 'exportCsv', sort: { key: 'param:nope', descending: false } }, 'refused'],
      [{ type: 'exportChart', chartId: 'line:loss', format: 'svg', data: '<script>alert(1)</script>' }, 'invalid'],
      [{ type: 'exportChart', chartId: 'line:loss', format: 'svg', data: '<svg></svg>', requestId: 999 }, 'refused'], // never asked for
      [{ type: 'setView', view: { metrics: 'loss' } }, 'invalid'],
      [{ type: 'runShell', command: 'rm -rf /' }, 'invalid'],
    ];
    for (const [message, outcome] of refusals) {
      const h = await postFromWebview(panel, message);
      assert.equal(h.outcome, outcome, `${JSON.stringify(message)}: ${h.detail}`);
    }
  });

  it('serves the page under a strict CSP with local resources only', () => {
    assertStrictPage(panel, extensionUri);
  });

  it('replaces the run set on a second invocation, and compares a run with the best of its script', async () => {
    const again = await compare([ids[0], ids[2]]);
    assert.equal(again, panel, 'one panel: a second invocation reuses it');
    assert.equal(api.compare.current(), panel);
    await waitForState(panel, 'the new run set', (s) => s.runs.length === 2 && s.runs[1].id === ids[2]);
    await waitFor('the new set rendered', async () => (panel.lastRendered?.version === panel.stateVersion && panel.lastRendered.charts.find((c) => c.id === 'line:loss')?.series === 2 ? true : undefined), WEBVIEW_TIMEOUT_MS);
    assert.equal(panel.panel.title, 'Compare 2 runs');

    // The primary metric is loss (the first logged; mlw.primaryMetric is unset), goal min by its name. The run
    // records say 1/3 for all three: give ids[1] the best final loss, as its appended events did.
    await store().update(ids[1], { metrics: { loss: 0.1, accuracy: 0.9 } });
    const best = (await vscode.commands.executeCommand('mlw.compareWithBest', ids[0])) as ComparePanel | undefined;
    assert.equal(best, panel);
    const state = await waitForState(panel, 'the run and the best of its script', (s) => s.runs.length === 2 && s.runs[0].id === ids[0] && s.runs[1].id !== ids[2]);
    assert.equal(state.runs[1].id, ids[1], 'ids[1] has the lowest final loss');
  });

  it('restores the panel from the state its webview saved (window reload)', async () => {
    const folder = vscode.workspace.workspaceFolders![0];
    const bogus = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'restored', vscode.ViewColumn.Active);
    assert.equal(await api.compare.revive(bogus, { folder: folder.uri.toString(), runIds: ['20000101-000000-dead'] }), undefined, 'unknown runs are not restored');
    const twin = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'restored', vscode.ViewColumn.Active);
    assert.equal(await api.compare.revive(twin, { folder: folder.uri.toString(), runIds: ids }), undefined, 'no second compare panel');
    // As after a reload: no compare panel, and VS Code hands over a bare one with the saved state.
    api.compare.current()?.dispose();
    assert.equal(api.compare.current(), undefined);
    const restoredPanel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'restored', vscode.ViewColumn.Active);
    const restored = await api.compare.revive(restoredPanel, { folder: folder.uri.toString(), runIds: ids, view: { metrics: ['accuracy'], params: ['lr'], xAxis: 'time', logScale: false, smoothing: 0.5 } });
    assert.ok(restored, 'the saved runs are restored');
    try {
      const state = await waitForState(restored, 'the restored state', (s) => s.runs.length === 3, WEBVIEW_TIMEOUT_MS);
      assert.deepEqual(state.view.metrics, ['accuracy']);
      assert.equal(state.view.xAxis, 'time');
      const rendered = await waitForRender(restored);
      assert.deepEqual(rendered.charts.filter((c) => c.kind === 'line').map((c) => c.id), ['line:accuracy']);
    } finally {
      restored.dispose();
    }
  });
});

