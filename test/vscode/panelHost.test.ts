/**
 * The panel host drives both webview panels the same way: ready → state (version n) → rendered ack of n, the
 * same outcomes for refused and invalid messages, and no refresh while hidden (one when shown again). Runs are
 * ended run records written through the extension's own store, so no Docker is needed here.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WorkbenchApi } from '../../src/extension';
import type { FolderRuns } from '../../src/views/common/workspaceRuns';
import { completedRunRecord } from '../harness/runFixtures';
import { activateExtension, waitFor, workspaceRoot } from './helpers';
import { WEBVIEW_TIMEOUT_MS, TestablePanel, postFromWebview, waitForRender } from './panelHelpers';

/** What both panels have in common (PanelHost), as this test uses it. */
interface Hosted extends TestablePanel<unknown, { message: unknown; intent?: { type: string }; outcome: string; detail?: string }> {
  readonly panel: vscode.WebviewPanel;
  readonly onDidReceiveMessage: vscode.Event<{ type: string }>;
  readonly onDidPost: vscode.Event<{ type: string; version?: number }>;
  readonly onDidRefresh: vscode.Event<unknown>;
  refresh(): Promise<unknown>;
  dispose(): void;
}

interface Kind {
  name: string;
  open(): Promise<Hosted>;
  /** A valid intent the panel must refuse. */
  refused: unknown;
  /** A render ack without the version the contract requires. */
  unversionedAck: unknown;
  /** Whether the state shows the run's new name. */
  showsName(state: unknown, name: string): boolean;
}

const stamp = Date.now().toString(36).slice(-6);
const ids = [`20261201-000001-${stamp}a`, `20261201-000002-${stamp}b`];

async function writeRun(owner: FolderRuns, id: string, loss: number[]): Promise<void> {
  await owner.store.create(completedRunRecord(id, { script: 'scripts/metrics.py', createdAt: new Date().toISOString(), metrics: { loss: loss[loss.length - 1] } }));
  const tracking = owner.store.paths(id).tracking;
  fs.mkdirSync(tracking, { recursive: true });
  const t = Date.now() / 1000;
  fs.writeFileSync(path.join(tracking, 'events.jsonl'), loss.map((value, step) => JSON.stringify({ kind: 'metric', name: 'loss', value, step, t: t + step })).join('\n') + '\n');
}

/** Hides a panel behind a text editor in its own group. */
async function hide(p: Hosted): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ content: 'covering the panel' });
  await vscode.window.showTextDocument(doc, { viewColumn: p.panel.viewColumn, preview: false });
  await waitFor('the panel to be hidden', async () => (!p.panel.visible ? true : undefined), WEBVIEW_TIMEOUT_MS);
}

describe('Panel host: one lifecycle for run details and compare (real VS Code)', () => {
  let api: WorkbenchApi;
  let owner: FolderRuns;

  before(async () => {
    api = await activateExtension();
    const folder = vscode.workspace.workspaceFolders!.find((f) => f.uri.fsPath === workspaceRoot())!;
    owner = api.workspaceRuns.of(folder);
    await writeRun(owner, ids[0], [1, 0.5, 0.25]);
    await writeRun(owner, ids[1], [2, 1, 0.5]);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const id of ids) await owner.store.delete(id).catch(() => undefined);
  });

  const kinds: Kind[] = [
    {
      name: 'run details',
      open: async () => (await vscode.commands.executeCommand('mlw.openRunDetails', ids[0])) as Hosted,
      refused: { type: 'openRun', id: ids[1] }, // not its parent
      unversionedAck: { type: 'rendered', sparklines: 1 },
      showsName: (s, name) => (s as { summary: { name?: string } }).summary.name === name,
    },
    {
      name: 'compare',
      open: async () => (await vscode.commands.executeCommand('mlw.compareRuns', undefined, undefined, ids)) as Hosted,
      refused: { type: 'openRun', id: '20000101-000000-0000' }, // not a compared run
      unversionedAck: { type: 'rendered', charts: [], ms: 1 },
      showsName: (s, name) => (s as { runs: { label: string }[] }).runs[0].label === name,
    },
  ];

  for (const kind of kinds) {
    describe(kind.name, () => {
      let panel: Hosted;

      after(() => panel?.dispose());

      it('says ready, gets a state with a new version, and acknowledges rendering that version', async () => {
        panel = await kind.open();
        assert.ok(panel && typeof panel.refresh === 'function', 'the command returns the panel');
        const first = await waitForRender(panel);
        assert.equal(first.version, panel.stateVersion);
        assert.ok(first.version >= 1);

        // A hidden webview is torn down; shown again it goes through the whole handshake anew.
        await hide(panel);
        const seen: string[] = [];
        const subs = [
          panel.onDidReceiveMessage((m) => seen.push(`in:${m.type}${'version' in m ? `:${(m as { version: number }).version}` : ''}`)),
          panel.onDidPost((m) => m.type === 'state' && seen.push(`out:state:${m.version}`)),
        ];
        try {
          const before = panel.stateVersion;
          panel.panel.reveal();
          const again = await waitFor('the render of the re-sent state', async () => ((panel.lastRendered?.version ?? 0) > before ? panel.lastRendered : undefined), WEBVIEW_TIMEOUT_MS);
          const v = again!.version;
          assert.equal(v, before + 1, 'one new state version');
          assert.equal(panel.stateVersion, v);
          assert.deepEqual(seen.filter((s) => s === 'in:ready' || s.endsWith(`:${v}`)), ['in:ready', `out:state:${v}`, `in:rendered:${v}`]);
        } finally {
          subs.forEach((s) => s.dispose());
        }
      });

      it('reports refused and invalid messages, the same way in both panels', async () => {
        const refused = await postFromWebview(panel, kind.refused);
        assert.equal(refused.outcome, 'refused', refused.detail);
        assert.ok(refused.detail, 'a refusal says why');
        for (const bad of [kind.unversionedAck, { type: 'state', version: 1 }, { type: 'runShell', command: 'rm -rf /' }, 'ready']) {
          const h = await postFromWebview(panel, bad);
          assert.equal(h.outcome, 'invalid', JSON.stringify(bad));
          assert.equal(h.intent, undefined);
        }
      });

      it('does not refresh while hidden, and refreshes when shown', async () => {
        await hide(panel);
        let refreshes = 0;
        const sub = panel.onDidRefresh(() => refreshes++);
        try {
          const name = `renamed-${kind.name.replace(' ', '-')}`;
          await owner.update(ids[0], { name });
          // Longer than the feed's and the host's debounce together.
          await new Promise((r) => setTimeout(r, 1500));
          assert.equal(refreshes, 0, 'no refresh while hidden');
          assert.ok(!kind.showsName(panel.lastState, name), 'the state is the one from before');
          panel.panel.reveal();
          await waitFor('the state with the new name', async () => (panel.lastState && kind.showsName(panel.lastState, name) ? true : undefined), WEBVIEW_TIMEOUT_MS);
          assert.ok(refreshes > 0);
          await waitForRender(panel);
        } finally {
          sub.dispose();
          await owner.update(ids[0], { name: undefined });
        }
      });
    });
  }
});
