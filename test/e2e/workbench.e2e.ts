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
import type { Browser, Locator, Page } from 'playwright-core';
import { CodeServer, launchChromium, startCodeServer } from '../harness/codeServer';
import { REPO_ROOT, createTestWorkspace } from '../harness/testWorkspace';

const SCREENSHOTS = process.env.MLW_SCREENSHOTS_DIR || path.join(REPO_ROOT, 'out', 'screenshots');

describe('ML Workbench in the real workbench (code-server + Chromium)', function () {
  this.timeout(180_000);
  let workspace: string;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  /** Runs one step, remembering what it waits for; on failure says so and saves a screenshot to /tmp. */
  async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      const result = await fn();
      console.log(`      · ${what} (${Date.now() - started} ms)`);
      return result;
    } catch (err) {
      const shot = `/tmp/mlw-e2e-failure-${Date.now()}.png`;
      await page?.screenshot({ path: shot }).catch(() => undefined);
      throw new Error(`while waiting for: ${what}\n${(err as Error).message}\n(screenshot: ${shot}; code-server log: ${server?.logFile})`);
    }
  }

  /** Polls `check` until it returns a value other than undefined/false. */
  async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, describe: () => string | Promise<string>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check().catch(() => undefined);
      if (v !== undefined && v !== false) return v as T;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s; last seen: ${await describe()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  const quickInput = () => page.locator('.quick-input-widget');
  const quickInputBox = () => quickInput().locator('input.input');

  async function openQuickInput(key: string, expectPrefix: string): Promise<void> {
    await until(async () => {
      if (!(await quickInput().isVisible())) {
        await page.locator('.monaco-workbench .part.editor').click({ position: { x: 300, y: 200 } }).catch(() => undefined);
        await page.keyboard.press(key);
        await quickInput().waitFor({ state: 'visible', timeout: 3000 });
      }
      return (await quickInputBox().inputValue()).startsWith(expectPrefix);
    }, 30_000, async () => `quick input visible=${await quickInput().isVisible()}`);
  }

  /** The visible quick-pick row whose label is exactly `label` (not "Run as Experiment…", say). */
  async function pickRow(label: string, timeoutMs = 30_000): Promise<Locator> {
    return until(async () => {
      const rows = quickInput().locator('.monaco-list-row');
      for (let i = 0; i < (await rows.count()); i++) {
        const row = rows.nth(i);
        const name = (await row.locator('.label-name').first().innerText()).replace(/\s+/g, ' ').trim();
        if (name === label) return row;
      }
      return undefined;
    }, timeoutMs, async () => `rows: ${JSON.stringify(await quickInput().locator('.monaco-list-row .label-name').allInnerTexts())}`);
  }

  before(async function () {
    workspace = createTestWorkspace('mlw-e2e-ws-');
    server = await startCodeServer(workspace);
    ({ browser, page } = await launchChromium());
    await page.goto(server.url(workspace));
    await step('the workbench (.monaco-workbench)', () => page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 }));
    // The explorer shows the folder once the remote extension host and file system are up.
    await step('the explorer to list scripts/', () => page.locator('.explorer-folders-view [role="treeitem"][aria-label*="scripts"]').first().waitFor({ timeout: 60_000 }));
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('runs scripts/hello.py from the palette, shows it completed in the Runs view, and opens its details', async function () {
    await step('quick open (Ctrl+P)', () => openQuickInput('Control+P', ''));
    await step('scripts/hello.py in quick open', async () => {
      await quickInputBox().fill('scripts/hello.py');
      await pickRow('hello.py');
      await page.keyboard.press('Enter');
    });
    await step('the hello.py editor tab', () => page.locator('.tabs-container [role="tab"][aria-label*="hello.py"]').first().waitFor({ timeout: 30_000 }));
    await step('the editor text of hello.py', () => page.locator('.monaco-editor .view-lines', { hasText: 'hello from the experiment' }).first().waitFor({ timeout: 30_000 }));

    await step('the command palette (F1)', () => openQuickInput('F1', '>'));
    await step('"ML Workbench: Run as Experiment" in the palette', async () => {
      await quickInputBox().fill('>ML Workbench: Run as Experiment');
      const row = await pickRow('ML Workbench: Run as Experiment');
      await row.click();
      await quickInput().waitFor({ state: 'hidden', timeout: 10_000 });
    });

    await step('the ML Workbench activity bar icon', async () => {
      const icon = page.locator('.part.activitybar [aria-label*="ML Workbench"]').first();
      await icon.waitFor({ timeout: 30_000 });
      await icon.click();
    });
    const tree = page.locator('.part.sidebar .monaco-list[role="tree"]').first();
    await step('the Runs view', () => page.locator('.part.sidebar .pane-header[aria-label*="Runs"], .part.sidebar .title-label h2', { hasText: /ML Workbench|Runs/i }).first().waitFor({ timeout: 30_000 }));
    const rows = page.locator('.part.sidebar [role="treeitem"]');
    const rowTexts = async () => JSON.stringify(await rows.allInnerTexts().catch(() => []));
    await step('a "scripts/hello.py" group row in the Runs tree', () =>
      until(async () => (await rows.filter({ hasText: 'scripts/hello.py' }).count()) > 0, 60_000, rowTexts));
    const runRow = rows.filter({ hasText: '#' }).first();
    await step('a run row (#xxxx) in the Runs tree', () => runRow.waitFor({ timeout: 30_000 }));
    await step('the run to complete (codicon-pass on its row)', () =>
      until(async () => (await runRow.locator('.codicon-pass').count()) > 0, 90_000,
        async () => `${await rowTexts()} icons ${JSON.stringify(await runRow.locator('.codicon').evaluateAll((els) => els.map((e) => e.className)))}`));
    const label = (await runRow.innerText()).split('\n')[0].trim();
    const shortId = /#([0-9a-z]{4})/i.exec(label)?.[1];
    assert.ok(shortId, `run row label ${JSON.stringify(label)} has a #xxxx short id`);
    assert.equal(await tree.isVisible(), true);

    await step('a screenshot of the Runs view', async () => {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      await page.mouse.move(700, 800); // no hover tooltip over the tree
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'runs-view.png') });
    });

    await step(`the Run details editor tab (Run ${shortId}) after clicking the run row`, async () => {
      await runRow.click();
      await page.locator('.tabs-container [role="tab"]', { hasText: new RegExp(`Run ${shortId}|Run`) }).first().waitFor({ timeout: 30_000 });
    });
    const tab = page.locator('.tabs-container [role="tab"]', { hasText: new RegExp(`Run #?${shortId}`) }).first();
    await step(`the tab titled "Run ${shortId} …"`, () => tab.waitFor({ timeout: 30_000 }));
    await step('the details webview to render (its frame)', async () => {
      // Webviews live in an overlay outside .part.editor, positioned over it: find the visible one.
      const outer = page.locator('iframe.webview.ready:visible').first();
      await outer.waitFor({ state: 'visible', timeout: 30_000 });
      const frame = outer.contentFrame().frameLocator('iframe#active-frame');
      await frame.locator('body', { hasText: /Completed|hello/i }).waitFor({ timeout: 30_000 });
    });
    await step('a screenshot of the Run details panel', async () => {
      await page.mouse.move(700, 800);
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'run-details.png') });
    });

    await step('.mlw/runs/*/run.json with status Completed on disk', async () => {
      const runsDir = path.join(workspace, '.mlw', 'runs');
      const records = fs.readdirSync(runsDir)
        .map((id) => path.join(runsDir, id, 'run.json'))
        .filter((f) => fs.existsSync(f))
        .map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as { id: string; status: string; script: string });
      assert.equal(records.length, 1, `one run record under ${runsDir}`);
      assert.equal(records[0].status, 'Completed');
      assert.equal(records[0].script, 'scripts/hello.py');
      assert.ok(records[0].id.endsWith(shortId!), `run ${records[0].id} is the one shown as #${shortId}`);
    });
  });
});
