import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
// Types only: the panel lives in the extension's bundle; tests reach it through the command and the API.
import type { WorkbenchApi } from '../../src/extension';
import type { ExperimentsTablePanel } from '../../src/views/table/experimentsTablePanel';
import { EXTENSION_ID, activateExtension, openScript, waitForEnd } from './helpers';
import { assertStrictPage, postFromWebview, waitForRender, waitForState } from './panelHelpers';

describe('Experiments table (real VS Code, real Docker)', () => {
  let api: WorkbenchApi;
  let panel: ExperimentsTablePanel | undefined;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-table-'));

  before(async () => {
    api = await activateExtension();
  });

  after(async () => {
    panel?.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens from the palette command and shows the real runs of the workspace, with their params and metrics', async () => {
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { menus: Record<string, { command: string; when?: string }[]> } };
    assert.ok(manifest.contributes.menus['view/title'].some((m) => m.command === 'mlw.openExperimentsTable' && m.when === 'view == mlw.runs'), 'in the Runs view title bar');
    assert.ok(!manifest.contributes.menus.commandPalette.some((m) => m.command === 'mlw.openExperimentsTable' && m.when === 'never'), 'not hidden from the palette');
    const uri = await openScript('scripts/metrics.py');
    const result = (await vscode.commands.executeCommand('mlw.runAsExperiment', uri)) as { runId: string };
    await waitForEnd(result.runId);

    panel = (await vscode.commands.executeCommand('mlw.openExperimentsTable')) as ExperimentsTablePanel;
    assert.ok(panel && api.experimentsTable.current() === panel, 'the command returns the one table panel');
    assertStrictPage(panel, vscode.extensions.getExtension(EXTENSION_ID)!.extensionUri);
    const state = await waitForState(panel, 'the run with its metrics', (s) => s.rows.some((r) => r.id === result.runId && r.values['metric:accuracy'] !== undefined));
    const row = state.rows.find((r) => r.id === result.runId)!;
    assert.equal(row.status, 'Completed');
    assert.ok(state.columns.some((c) => c.key === 'param:lr'), `columns: ${state.columns.map((c) => c.key).join(', ')}`);
    const rendered = await waitForRender(panel);
    assert.equal(rendered.rows, state.rows.length);
    assert.ok(rendered.domRows > 0 && rendered.domRows <= state.rows.length);
  });

  it('remembers the view per workspace and exports the shown view as CSV', async () => {
    const p = panel!;
    const view = { layout: { order: [], hidden: ['commit'], pinned: ['name'] }, filters: ['status = completed'], sort: { column: 'metric:accuracy', descending: true } };
    const handled = await postFromWebview(p, { type: 'setView', view });
    assert.equal(handled.outcome, 'done');
    assert.deepEqual(p.savedView, view);
    const ids = p.lastState!.rows.filter((r) => r.status === 'Completed').map((r) => r.id);
    const file = path.join(tmp, 'runs.csv');
    p.queueSaveTarget(file);
    const exported = await postFromWebview(p, { type: 'exportCsv', ids, columns: ['name', 'metric:accuracy'] });
    assert.equal(exported.outcome, 'done');
    const lines = fs.readFileSync(file, 'utf8').trim().split('\r\n');
    assert.equal(lines[0], 'Run,Name,accuracy');
    assert.equal(lines.length, ids.length + 1);
    const refused = await postFromWebview(p, { type: 'action', action: 'openDetails', ids: ['not-a-run-here'] });
    assert.equal(refused.outcome, 'refused');
  });
});
