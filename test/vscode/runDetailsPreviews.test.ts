/**
 * Run details of real runs (real VS Code, real Docker, the test base image with matplotlib): a run that writes
 * a PNG and a CSV shows them in the webview (the image decoded by the webview itself, the table built); a failed
 * run shows its traceback; the Star button stars through the Runs view's command; and a deleted run's panel
 * says so, keeps nothing and stops refreshing.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunDetailsPanel } from '../../src/views/details/runDetailsPanel';
import { isDeletedRun } from '../../src/views/protocol/runDetails';
import { LIVE_POLL_MS } from '../../src/views/common/panelHost';
import { activateExtension, openScript, store, waitFor, waitForEnd } from './helpers';
import { WEBVIEW_TIMEOUT_MS, nextHandled, waitForRender, waitForState } from './panelHelpers';
import { waitForRunState } from './runDetailsHelpers';

async function runScript(rel: string): Promise<string> {
  const result = (await vscode.commands.executeCommand('mlw.runAsExperiment', await openScript(rel))) as { runId?: string; error?: string };
  assert.ok(result?.runId, `run started (${result?.error})`);
  return result.runId;
}

async function openDetails(runId: string): Promise<RunDetailsPanel> {
  const panel = (await vscode.commands.executeCommand('mlw.openRunDetails', runId)) as RunDetailsPanel | undefined;
  assert.ok(panel, 'mlw.openRunDetails returns the panel');
  return panel;
}

describe('Run details previews, traceback, actions and deletion (real VS Code, real Docker)', () => {
  const opened: RunDetailsPanel[] = [];
  let previewsRun: string;

  before(async () => {
    await activateExtension();
  });

  after(async () => {
    for (const p of opened) p.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows the PNG and the CSV a run wrote: the image decoded in the webview, the CSV as a table', async () => {
    previewsRun = await runScript('scripts/previews.py');
    const run = await waitForEnd(previewsRun);
    assert.equal(run.status, 'Completed', run.reason);
    const panel = await openDetails(previewsRun);
    opened.push(panel);
    const state = await waitForRunState(panel, 'the state with previews', (s) => s.summary.terminal && s.previews.length === 2, WEBVIEW_TIMEOUT_MS);
    const [png, csv] = [state.previews.find((p) => p.path === 'curve.png'), state.previews.find((p) => p.path === 'scores.csv')];
    assert.equal(png?.kind, 'image');
    assert.ok(png?.kind === 'image' && png.src.startsWith('data:image/png;base64,iVBORw0KGgo'), 'the PNG itself, as a data: URI');
    assert.deepEqual(csv?.kind === 'table' && { columns: csv.columns, rows: csv.rows }, { columns: ['fold', 'accuracy'], rows: [['0', '0.91'], ['1', '0.93']] });
    const rendered = await waitForRender(panel);
    assert.deepEqual(rendered.errors ?? [], []);
    assert.equal(rendered.images, 1, 'the webview decoded the PNG under its CSP');
    assert.equal(rendered.charts, 1, 'and drew the loss chart');
  });

  it("stars the run from the panel's Star button, through mlw.starRun", async () => {
    const panel = opened[0];
    const handled = nextHandled(panel, (h) => h.intent?.type === 'runAction');
    await panel.postTest({ type: 'test:click', testId: 'action:star' });
    assert.equal((await handled).outcome, 'done', (await handled).detail);
    await waitFor('the record to be starred', async () => ((await store().get(previewsRun))?.starred ? true : undefined), WEBVIEW_TIMEOUT_MS);
    await waitForRunState(panel, 'the starred state', (s) => s.summary.starred === true, WEBVIEW_TIMEOUT_MS);
    const again = nextHandled(panel, (h) => h.intent?.type === 'runAction');
    await panel.postTest({ type: 'test:post', message: { type: 'runAction', action: 'cancel' } });
    assert.equal((await again).outcome, 'refused', 'nothing to cancel: the run ended');
  });

  it("cancels a running run from the panel's Cancel button", async () => {
    const id = await runScript('scripts/slow.py');
    const panel = await openDetails(id);
    opened.push(panel);
    await waitForRunState(panel, 'the running state', (s) => s.summary.status === 'Running', 120_000);
    await waitForRender(panel);
    const handled = nextHandled(panel, (h) => h.intent?.type === 'runAction');
    await panel.postTest({ type: 'test:click', testId: 'action:cancel' });
    assert.equal((await handled).outcome, 'done', (await handled).detail);
    const run = await waitForEnd(id);
    assert.equal(run.status, 'Canceled');
    await waitForRunState(panel, 'the canceled state', (s) => s.summary.status === 'Canceled', WEBVIEW_TIMEOUT_MS);
  });

  it("shows a failed run's traceback next to its reason", async () => {
    const id = await runScript('scripts/raises.py');
    const run = await waitForEnd(id);
    assert.equal(run.status, 'Failed');
    const panel = await openDetails(id);
    opened.push(panel);
    const state = await waitForRunState(panel, 'the failed state', (s) => s.summary.terminal && !!s.summary.traceback, WEBVIEW_TIMEOUT_MS);
    assert.match(state.summary.reason ?? '', /exited with code 1/);
    assert.match(state.summary.traceback ?? '', /^Traceback \(most recent call last\):\n {2}File ".*raises\.py", line \d+, in <module>[\s\S]*\nValueError: learning rate must be positive, got -1$/);
    assert.deepEqual((await waitForRender(panel)).errors ?? [], []);
  });

  it('says a deleted run was deleted, keeps nothing of it and stops refreshing', async () => {
    const panel = opened[0];
    const versionBefore = panel.stateVersion;
    const result = (await vscode.commands.executeCommand('mlw.deleteRun', previewsRun, undefined, true)) as { deleted: string[] };
    assert.deepEqual(result.deleted, [previewsRun]);
    // Hidden behind the failed run's panel, it refreshes once shown.
    panel.panel.reveal();
    const state = await waitForState(panel, 'the deleted state', (s) => isDeletedRun(s), WEBVIEW_TIMEOUT_MS);
    assert.ok(isDeletedRun(state));
    assert.match(state.message, new RegExp(`Run ${previewsRun} was deleted`));
    assert.equal(JSON.stringify(state).includes('scores.csv'), false, 'no stale data');
    // The render of a state pushed after the deletion (the webview drew nothing of the run).
    const rendered = await waitFor('the deleted state to render', async () => {
      const r = await waitForRender(panel);
      return r.version > versionBefore ? r : undefined;
    }, WEBVIEW_TIMEOUT_MS);
    assert.deepEqual({ charts: rendered.charts, images: rendered.images, errors: rendered.errors ?? [] }, { charts: 0, images: 0, errors: [] });
    assert.equal(panel.panel.title, `Run ${previewsRun.slice(-4)} (deleted)`);
    let refreshes = 0;
    const sub = panel.onDidRefresh(() => refreshes++);
    try {
      await new Promise((r) => setTimeout(r, LIVE_POLL_MS * 2 + 500));
      assert.equal(refreshes, 0, 'no polling or refreshing of a deleted run');
    } finally {
      sub.dispose();
    }
    const refused = nextHandled(panel, (h) => h.intent?.type === 'runAction');
    await panel.postTest({ type: 'test:post', message: { type: 'runAction', action: 'rerun' } });
    assert.equal((await refused).outcome, 'refused');
  });
});
