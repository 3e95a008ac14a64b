import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WorkbenchApi } from '../../src/extension';
import type { RunsNode } from '../../src/views/runs/runsTree';
import { completedRunRecord } from '../harness/runFixtures';
import { activateExtension, store, waitFor } from './helpers';

type RunNode = Extract<RunsNode, { kind: 'run' }>;

/**
 * Regression tests of the Runs-view bugs filed in issue 10, read from what the tree shows: the provider's
 * children as the view last refreshed them, never forced with an explicit refresh.
 */
describe('Runs view bugs of issue 10 (real VS Code)', () => {
  let api: WorkbenchApi;

  async function shownRunIds(): Promise<string[]> {
    const provider = api.runsView.provider;
    const groups = await provider.getChildren();
    const nodes = (await Promise.all(groups.map((g) => provider.getChildren(g)))).flat();
    return nodes.filter((n): n is RunNode => n.kind === 'run').map((n) => n.id);
  }

  before(async () => {
    api = await activateExtension();
    await vscode.commands.executeCommand('mlw.runs.focus');
    await waitFor('the Runs view to be visible', async () => (api.runsView.view.visible ? true : undefined), 10_000);
  });

  it('drops runs removed by Clean Up from the tree at once', async () => {
    const ids = [1, 2, 3].map((i) => `20261201-00010${i}-cleanup`);
    for (const id of ids) await store().create(completedRunRecord(id, { status: 'Failed', script: 'scripts/cleanup.py', reason: 'exited with code 1' }));
    await waitFor('the failed runs in the tree', async () => ((await shownRunIds()).filter((id) => ids.includes(id)).length === 3 ? true : undefined), 15_000);
    const result = (await vscode.commands.executeCommand('mlw.cleanUp', { statuses: ['Failed'] }, true)) as { deleted: string[] };
    for (const id of ids) assert.ok(result.deleted.includes(id), `${id} cleaned up`);
    const started = Date.now();
    await waitFor('the cleaned-up runs to leave the tree', async () => ((await shownRunIds()).some((id) => ids.includes(id)) ? undefined : true), 3_000);
    console.log(`      cleaned-up runs left the tree after ${Date.now() - started} ms`);
  });

  it('drops a run another process deleted (its whole folder removed) from the tree', async () => {
    const id = '20261201-000201-external';
    await store().create(completedRunRecord(id, { script: 'scripts/external.py' }));
    await waitFor('the run in the tree', async () => ((await shownRunIds()).includes(id) ? true : undefined), 15_000);
    await store().delete(id);
    await waitFor('the deleted run to leave the tree', async () => ((await shownRunIds()).includes(id) ? undefined : true), 5_000);
  });

  /** Starts `command` with `args`, checks it is waiting on a quick input (not done already), then closes it. */
  async function expectItAsks(command: string, ...args: unknown[]): Promise<unknown> {
    let settled = false;
    const done = Promise.resolve(vscode.commands.executeCommand(command, ...args)).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(settled, false, `${command} finished without asking anything`);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    return done;
  }

  it('asks for a filter when the view title button passes the focused run row (not taken as the filter)', async () => {
    const id = '20261201-000301-focused';
    await store().create(completedRunRecord(id, { script: 'scripts/focused.py' }));
    try {
      const node = await waitFor('the run in the tree', async () => {
        const provider = api.runsView.provider;
        const groups = await provider.getChildren();
        const nodes = (await Promise.all(groups.map((g) => provider.getChildren(g)))).flat();
        return nodes.find((n): n is RunNode => n.kind === 'run' && n.id === id);
      });
      assert.equal(await expectItAsks('mlw.filterRuns', node), undefined);
      assert.equal(api.runsView.view.message, undefined, 'no filter was applied');
      assert.deepEqual(api.runsView.provider.filter, {});
      // Clean Up from the title bar likewise asks what to clean instead of planning an empty clean-up.
      assert.equal(await expectItAsks('mlw.cleanUp', node), undefined);
      assert.ok(await store().get(id), 'nothing was deleted');
    } finally {
      await store().delete(id);
    }
  });

  it('describes rows by the params that differ within their group, labels, and a running run\'s latest metric', async () => {
    const ids = ['20261201-000401-params1', '20261201-000402-params2'];
    await store().create(completedRunRecord(ids[0], { script: 'scripts/params_group.py', params: { lr: 0.05, epochs: 3 }, labels: ['best'] }));
    await store().create(completedRunRecord(ids[1], { script: 'scripts/params_group.py', params: { lr: 0.5, epochs: 3 }, name: 'wide' }));
    const running = '20261201-000403-params3';
    await store().create(completedRunRecord(running, { script: 'scripts/params_live.py', status: 'Running', endedAt: undefined }));
    const tracking = store().paths(running).tracking;
    fs.mkdirSync(tracking, { recursive: true });
    fs.writeFileSync(path.join(tracking, 'events.jsonl'), [0.9, 0.5, 0.25].map((v, step) => JSON.stringify({ kind: 'metric', name: 'loss', value: v, step, t: 1 + step })).join('\n') + '\n');
    try {
      const describe = async (id: string) => {
        const provider = api.runsView.provider;
        const groups = await provider.getChildren();
        const nodes = (await Promise.all(groups.map((g) => provider.getChildren(g)))).flat();
        const node = nodes.find((n): n is RunNode => n.kind === 'run' && n.id === id);
        return node && String(provider.getTreeItem(node).description);
      };
      const first = await waitFor('the first run in the tree', () => describe(ids[0]), 15_000);
      const second = (await describe(ids[1]))!;
      assert.match(first, /lr=0\.05/);
      assert.match(first, /\[best\]/);
      assert.doesNotMatch(first, /epochs=/, 'epochs is 3 in both runs: it tells nothing apart');
      assert.match(second, /#ams2 · lr=0\.5\b/, 'a named run keeps its short id in the description');
      assert.match((await waitFor('the running run', () => describe(running), 15_000)), /loss 0\.25/);
    } finally {
      for (const id of [...ids, running]) await store().delete(id).catch(() => fs.rmSync(store().paths(id).dir, { recursive: true, force: true }));
    }
  });

  it('tells the workbench only about the rows that changed, not the whole tree', async () => {
    const ids = ['20261201-000501-quiet1', '20261201-000502-quiet2', '20261201-000503-quiet3'];
    for (const id of ids) await store().create(completedRunRecord(id, { script: 'scripts/quiet.py' }));
    try {
      await waitFor('the runs in the tree', async () => ((await shownRunIds()).filter((id) => ids.includes(id)).length === 3 ? true : undefined), 15_000);
      const provider = api.runsView.provider;
      await waitFor('the tree to settle', async () => ((await provider.update()) === 0 ? true : undefined), 10_000);
      const fired: unknown[] = [];
      const sub = provider.onDidChangeTreeData((e) => fired.push(e));
      try {
        // Another process renames one run: that row alone is sent again.
        await store().update(ids[1], { name: 'renamed elsewhere' });
        assert.equal(await provider.update(), 1);
        assert.equal(fired.length, 1);
        const [elements] = fired as { kind: string; id: string }[][];
        assert.deepEqual(elements.map((e) => `${e.kind}:${e.id}`), [`run:${ids[1]}`]);
      } finally {
        sub.dispose();
      }
    } finally {
      for (const id of ids) await store().delete(id);
    }
  });
});
