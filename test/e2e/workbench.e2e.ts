/**
 * End to end through the real workbench UI (no extension-host test API): code-server 4.100.3 with the extension
 * installed from this checkout, driven by clicks and keys in Chromium. Opens scripts/hello.py, runs
 * "ML Workbench: Run as Experiment" from the command palette, watches the run complete in the Runs view, opens
 * its details panel, and saves screenshots of both to out/screenshots/ (MLW_SCREENSHOTS_DIR to change).
 * They land in a build folder so a test run never rewrites tracked files; `npm run screenshots` copies them
 * into media/screenshots/ (the README's images) when they should change.
 *
 *   node esbuild.mjs && MLW_TEST_BASE_IMAGE=... npx mocha --no-config --timeout 180000 out/test/e2e/workbench.e2e.js
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LaunchedWorkbench, launchWorkbench } from '../harness/launchWorkbench';
import { REPO_ROOT, createTestWorkspace, removeTestWorkspace } from '../harness/testWorkspace';
import { WorkbenchDriver } from '../harness/workbenchDriver';

const SCREENSHOTS = process.env.MLW_SCREENSHOTS_DIR || path.join(REPO_ROOT, 'out', 'screenshots');

describe('ML Workbench in the real workbench (code-server + Chromium)', function () {
  this.timeout(180_000);
  let workspace: string;
  let workbench: LaunchedWorkbench | undefined;
  let ui: WorkbenchDriver;

  before(async function () {
    workspace = createTestWorkspace('mlw-e2e-ws-');
    workbench = await launchWorkbench(workspace);
    ui = workbench.ui;
  });

  after(async function () {
    await workbench?.close();
    if (workspace) removeTestWorkspace(workspace);
  });

  async function screenshot(name: string): Promise<void> {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await ui.page.mouse.move(700, 800); // no hover tooltip over the tree
    await ui.page.waitForTimeout(500);
    await ui.page.screenshot({ path: path.join(SCREENSHOTS, name) });
  }

  it('runs scripts/hello.py from the palette, shows it completed in the Runs view, and opens its details', async function () {
    await ui.openFile('scripts/hello.py', 'hello from the experiment');
    await ui.runFromPalette('ML Workbench: Run as Experiment');
    const { runRow, shortId } = await ui.waitForCompletedRun('scripts/hello.py');
    assert.equal(await ui.page.locator('.part.sidebar .monaco-list[role="tree"]').first().isVisible(), true);
    await ui.step('a screenshot of the Runs view', () => screenshot('runs-view.png'));

    await ui.openRunDetails(runRow, shortId, /Completed|hello/i);
    await ui.step('a screenshot of the Run details panel', () => screenshot('run-details.png'));

    await ui.expectOneCompletedRunOnDisk(workspace, 'scripts/hello.py', shortId);
  });
});
