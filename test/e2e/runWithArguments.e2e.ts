/**
 * Run with arguments, modify and rerun through the real workbench UI (code-server + Chromium, keys and clicks):
 * the argument box and its history, the configuration picker's script and args, a new configuration's name,
 * and Modify and Rerun offering the params the script took from its arguments. Runs on the real Docker engine.
 *
 *   node esbuild.mjs && MLW_TEST_BASE_IMAGE=... npx mocha --no-config --timeout 300000 out/test/e2e/runWithArguments.e2e.js
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LaunchedWorkbench, launchWorkbench } from '../harness/launchWorkbench';
import { createTestWorkspace, removeTestWorkspace } from '../harness/testWorkspace';
import { WorkbenchDriver } from '../harness/workbenchDriver';

const SCRIPT = `import argparse

import mlw

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--epochs", type=int, default=1)
args = p.parse_args()
mlw.log_params(vars(args))
print("trained lr=%s epochs=%s" % (args.lr, args.epochs))
`;

interface Record { id: string; status: string; args: string[]; parentId?: string }

describe('Run with arguments, modify and rerun in the real workbench (code-server + Chromium)', function () {
  this.timeout(300_000);
  let workspace: string;
  let workbench: LaunchedWorkbench | undefined;
  let ui: WorkbenchDriver;

  function records(): Record[] {
    const dir = path.join(workspace, '.mlw', 'runs');
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir)
      .map((id) => path.join(dir, id, 'run.json'))
      .filter((f) => fs.existsSync(f))
      .map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as Record);
  }

  async function completedRuns(n: number): Promise<Record[]> {
    return ui.step(`${n} completed run(s) on disk`, () =>
      ui.until(async () => {
        const done = records().filter((r) => r.status === 'Completed');
        return done.length >= n ? done : undefined;
      }, 120_000, async () => JSON.stringify(records().map((r) => [r.status, r.args]))));
  }

  /** The labels and descriptions of the quick pick's rows. */
  async function pickRows(): Promise<string[]> {
    return (await ui.quickInput().locator('.monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  before(async function () {
    workspace = createTestWorkspace('mlw-e2e-args-');
    fs.writeFileSync(path.join(workspace, 'scripts', 'args_train.py'), SCRIPT);
    fs.mkdirSync(path.join(workspace, '.mlw', 'runconfigs'), { recursive: true });
    fs.writeFileSync(path.join(workspace, '.mlw', 'runconfigs', 'fast.yaml'), 'script: scripts/args_train.py\nargs: ["--epochs", "7"]\n');
    workbench = await launchWorkbench(workspace);
    ui = workbench.ui;
    await ui.openFile('scripts/args_train.py', 'argparse');
  });

  after(async function () {
    await workbench?.close();
    if (workspace) removeTestWorkspace(workspace);
  });

  it('runs with the arguments typed; the second time the box holds them and offers the earlier lines', async () => {
    await ui.runFromPalette('ML Workbench: Run as Experiment with Arguments…', { opensQuickInput: true });
    await ui.step('the argument box (empty the first time)', () => ui.quickInput().waitFor({ state: 'visible', timeout: 10_000 }));
    assert.equal(await ui.quickInputBox().inputValue(), '');
    await ui.quickInputBox().fill('--lr 0.05');
    await ui.page.keyboard.press('Enter');
    const [first] = await completedRuns(1);
    assert.deepEqual(first.args, ['--lr', '0.05']);

    await ui.runFromPalette('ML Workbench: Run as Experiment with Arguments…', { opensQuickInput: true });
    await ui.step('the argument box, prefilled with the last line', () =>
      ui.until(async () => (await ui.quickInputBox().inputValue()) === '--lr 0.05', 10_000, async () => `value ${await ui.quickInputBox().inputValue()}`));
    await ui.quickInputBox().fill('--lr 0.5');
    const rows = await ui.step('the earlier line offered below', () =>
      ui.until(async () => {
        const r = await pickRows();
        return r.some((t) => t.startsWith('--lr 0.05') && /used before/.test(t)) ? r : undefined;
      }, 10_000, async () => JSON.stringify(await pickRows())));
    assert.match(rows[0], /^--lr 0\.5\s*run with these arguments/);
    await ui.page.keyboard.press('Enter');
    const runs = await completedRuns(2);
    assert.ok(runs.some((r) => r.args.join(' ') === '--lr 0.5'), JSON.stringify(runs.map((r) => r.args)));
  });

  it('shows each configuration\'s script and args in the picker, and does not prefill a new one as "default"', async () => {
    await ui.runFromPalette('ML Workbench: Run as Experiment…', { opensQuickInput: true });
    const rows = await ui.step('the configuration picker', () =>
      ui.until(async () => {
        const r = await pickRows();
        return r.some((t) => /^fast/.test(t)) ? r : undefined;
      }, 10_000, async () => JSON.stringify(await pickRows())));
    assert.ok(rows.some((t) => /^fast\s*scripts\/args_train\.py --epochs 7/.test(t)), JSON.stringify(rows));
    const row = await ui.pickRow('New run configuration…');
    await row.click();
    await ui.step('the new configuration\'s name box', () =>
      ui.until(async () => /Name \(saved as/.test(await ui.quickInput().innerText()) && (await ui.quickInputBox().inputValue()) !== '', 10_000, async () => await ui.quickInput().innerText()));
    assert.equal(await ui.quickInputBox().inputValue(), 'args_train');
    await ui.quickInputBox().fill('default');
    await ui.step('the warning that "default" changes plain Run as Experiment', () =>
      ui.until(async () => /also used by plain/.test(await ui.quickInput().innerText()), 10_000, async () => await ui.quickInput().innerText()));
    await ui.page.keyboard.press('Escape');
    assert.equal(fs.existsSync(path.join(workspace, '.mlw', 'runconfigs', 'default.yaml')), false);
  });

  it('modifies and reruns a run from the Runs view: its params offered as options, then from the same snapshot', async () => {
    await ui.openRunsView();
    const row = ui.runsTreeRows().filter({ hasText: 'lr=0.5' }).first();
    await ui.step('the lr=0.5 run row', () => row.waitFor({ timeout: 30_000 }));
    await row.click({ button: 'right' });
    await ui.step('Modify and Rerun… in its context menu', async () => {
      const items = await ui.contextMenuItems();
      assert.ok(items.includes('Modify and Rerun…'), items.join(' | '));
      await ui.clickMenuItem('Modify and Rerun…');
    });
    const rows = await ui.step('the argument box with the params offered', () =>
      ui.until(async () => {
        const r = await pickRows();
        return r.some((t) => /change param lr/.test(t)) ? r : undefined;
      }, 10_000, async () => JSON.stringify(await pickRows())));
    assert.equal(await ui.quickInputBox().inputValue(), '--lr 0.5');
    assert.ok(rows.some((t) => /^\S*\s*--lr 0\.5\s*change param lr/.test(t)), JSON.stringify(rows));
    // epochs was not in the arguments: the script's argparse option offers it with its logged default.
    assert.ok(rows.some((t) => /^\S*\s*--epochs 1\s*change param epochs/.test(t)), JSON.stringify(rows));
    await ui.quickInputBox().fill('--lr 0.5 --epochs 4');
    await ui.page.keyboard.press('Enter');
    const from = await ui.pickRow('Same snapshot');
    await from.click();
    const runs = await completedRuns(3);
    const rerun = runs.find((r) => r.args.join(' ') === '--lr 0.5 --epochs 4');
    assert.ok(rerun?.parentId, JSON.stringify(runs));
  });
});
