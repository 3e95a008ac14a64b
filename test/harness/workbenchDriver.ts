/**
 * Driving the real workbench UI in Chromium (code-server) for the end-to-end tests: named steps that say what
 * they waited for when they fail, polling, the quick input (quick open, command palette), and the walk from a
 * script to a completed run in the Runs view that several tests share.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { CodeServer } from './codeServer';

export class WorkbenchDriver {
  constructor(
    readonly page: Page,
    private readonly server: () => CodeServer | undefined,
  ) {}

  /** Runs one step, remembering what it waits for; on failure says so and saves a screenshot to /tmp. */
  async step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      const result = await fn();
      console.log(`      · ${what} (${Date.now() - started} ms)`);
      return result;
    } catch (err) {
      const shot = `/tmp/mlw-e2e-failure-${Date.now()}.png`;
      await this.page.screenshot({ path: shot }).catch(() => undefined);
      throw new Error(`while waiting for: ${what}\n${(err as Error).message}\n(screenshot: ${shot}; code-server log: ${this.server()?.logFile})`);
    }
  }

  /** Polls `check` until it returns a value other than undefined/false. */
  async until<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, describe: () => string | Promise<string>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check().catch(() => undefined);
      if (v !== undefined && v !== false) return v as T;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s; last seen: ${await describe()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  quickInputBox(): Locator {
    return this.quickInput().locator('input.input');
  }

  async openQuickInput(key: string, expectPrefix: string): Promise<void> {
    let attempts = 0;
    await this.until(async () => {
      if (!(await this.quickInput().isVisible())) {
        // The editor area first; when a webview fills it (run details), keys go to its frame: use the side bar's title.
        const [target, position] = attempts++ % 2 === 0
          ? [this.page.locator('.monaco-workbench .part.editor'), { x: 300, y: 200 }]
          : [this.page.locator('.part.sidebar .composite.title').first(), { x: 40, y: 10 }];
        await target.click({ position, timeout: 2000 }).catch(() => undefined);
        await this.page.keyboard.press(key);
        await this.quickInput().waitFor({ state: 'visible', timeout: 3000 });
      }
      return (await this.quickInputBox().inputValue()).startsWith(expectPrefix);
    }, 30_000, async () => `quick input visible=${await this.quickInput().isVisible()}`);
  }

  /** The visible quick-pick row whose label is exactly `label` (not "Run as Experiment…", say). */
  async pickRow(label: string, timeoutMs = 30_000): Promise<Locator> {
    return this.until(async () => {
      const rows = this.quickInput().locator('.monaco-list-row');
      for (let i = 0; i < (await rows.count()); i++) {
        const row = rows.nth(i);
        const name = (await row.locator('.label-name').first().innerText({ timeout: 1000 }).catch(() => '')).replace(/\s+/g, ' ').trim();
        if (name === label) return row;
      }
      return undefined;
    }, timeoutMs, async () => `rows: ${JSON.stringify(await this.quickInput().locator('.monaco-list-row .label-name').allInnerTexts())}`);
  }

  /** The workbench is up and the explorer lists `folderName` (the remote extension host and file system answer). */
  async waitForWorkbench(folderName: string): Promise<void> {
    await this.step('the workbench (.monaco-workbench)', () => this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 }));
    await this.step(`the explorer to list ${folderName}/`, () =>
      this.page.locator(`.explorer-folders-view [role="treeitem"][aria-label*="${folderName}"]`).first().waitFor({ timeout: 60_000 }));
  }

  /** Opens `relPath` with quick open (Ctrl+P) and waits until the editor shows `expectText`. */
  async openFile(relPath: string, expectText: string): Promise<void> {
    const base = relPath.split('/').pop()!;
    await this.step('quick open (Ctrl+P)', () => this.openQuickInput('Control+P', ''));
    await this.step(`${relPath} in quick open`, async () => {
      await this.quickInputBox().fill(relPath);
      await this.pickRow(base);
      await this.page.keyboard.press('Enter');
    });
    await this.step(`the ${base} editor tab`, () => this.page.locator(`.tabs-container [role="tab"][aria-label*="${base}"]`).first().waitFor({ timeout: 30_000 }));
    await this.step(`the editor text of ${base}`, () => this.page.locator('.monaco-editor .view-lines', { hasText: expectText }).first().waitFor({ timeout: 30_000 }));
  }

  /**
   * Runs `command` (its palette label) from the command palette (F1). With `keyboard`, the row is chosen
   * with the arrow keys and Enter, as a keyboard user would; otherwise it is clicked. `opensQuickInput`: the
   * command asks something at once (its quick input follows the palette's).
   */
  async runFromPalette(command: string, { keyboard = false, opensQuickInput = false } = {}): Promise<void> {
    await this.step('the command palette (F1)', () => this.openQuickInput('F1', '>'));
    await this.step(`"${command}" in the palette`, async () => {
      await this.quickInputBox().fill(`>${command}`);
      const row = await this.pickRow(command);
      if (keyboard) {
        // Focus follows the arrow keys; press Down until the exact row (not "…" variants) is the focused one.
        await this.until(async () => {
          if ((await row.getAttribute('class'))?.includes('focused')) return true;
          await this.page.keyboard.press('ArrowDown');
          return false;
        }, 10_000, async () => `focused: ${await this.quickInput().locator('.monaco-list-row.focused .label-name').allInnerTexts()}`);
        await this.page.keyboard.press('Enter');
      } else {
        await row.click();
      }
      // A command that asks something at once replaces the palette with its own quick input.
      if (opensQuickInput) {
        await this.until(async () => !(await this.quickInputBox().inputValue()).startsWith('>'), 10_000, async () => `value ${await this.quickInputBox().inputValue()}`);
      } else {
        await this.quickInput().waitFor({ state: 'hidden', timeout: 10_000 });
      }
    });
  }

  /** The rows of the Runs tree in the ML Workbench side bar. */
  runsTreeRows(): Locator {
    return this.page.locator('.part.sidebar [role="treeitem"]');
  }

  /**
   * Opens the ML Workbench activity bar container and waits for the first run row under `script` to show the
   * Completed icon. Returns that row and the short id (#xxxx) it shows.
   */
  async waitForCompletedRun(script: string): Promise<{ runRow: Locator; shortId: string }> {
    const page = this.page;
    await this.step('the ML Workbench activity bar icon', async () => {
      const icon = page.locator('.part.activitybar [aria-label*="ML Workbench"]').first();
      await icon.waitFor({ timeout: 30_000 });
      await icon.click();
    });
    await this.step('the Runs view', () => page.locator('.part.sidebar .pane-header[aria-label*="Runs"], .part.sidebar .title-label h2', { hasText: /ML Workbench|Runs/i }).first().waitFor({ timeout: 30_000 }));
    const rows = this.runsTreeRows();
    const rowTexts = async () => JSON.stringify(await rows.allInnerTexts().catch(() => []));
    await this.step(`a "${script}" group row in the Runs tree`, () =>
      this.until(async () => (await rows.filter({ hasText: script }).count()) > 0, 60_000, rowTexts));
    const runRow = rows.filter({ hasText: '#' }).first();
    await this.step('a run row (#xxxx) in the Runs tree', () => runRow.waitFor({ timeout: 30_000 }));
    await this.step('the run to complete (codicon-pass on its row)', () =>
      this.until(async () => (await runRow.locator('.codicon-pass').count()) > 0, 90_000,
        async () => `${await rowTexts()} icons ${JSON.stringify(await runRow.locator('.codicon').evaluateAll((els) => els.map((e) => e.className)))}`));
    const label = (await runRow.innerText()).split('\n')[0].trim();
    const shortId = /#([0-9a-z]{4})/i.exec(label)?.[1];
    if (!shortId) throw new Error(`run row label ${JSON.stringify(label)} has no #xxxx short id`);
    return { runRow, shortId };
  }

  /** Opens the ML Workbench side bar (its activity bar icon) and waits for the Runs view. */
  async openRunsView(): Promise<void> {
    const page = this.page;
    await this.step('the ML Workbench activity bar icon', async () => {
      const icon = page.locator('.part.activitybar [aria-label*="ML Workbench"]').first();
      await icon.waitFor({ timeout: 30_000 });
      const title = await page.locator('.part.sidebar .title-label h2').first().innerText().catch(() => '');
      if (!/ML Workbench/i.test(title)) await icon.click();
    });
    await this.step('the Runs view', () => page.locator('.part.sidebar .title-label h2', { hasText: /ML Workbench/i }).first().waitFor({ timeout: 30_000 }));
  }

  /** The Runs tree row whose text contains `text` (a run's name or #short id). */
  runRow(text: string): Locator {
    return this.runsTreeRows().filter({ hasText: text }).first();
  }

  /** The titles of the open editor tabs, in order. */
  async tabTitles(): Promise<string[]> {
    return (await this.page.locator('.tabs-container [role="tab"]').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** The active editor tab's title. */
  async activeTab(): Promise<string> {
    return ((await this.page.locator('.tabs-container [role="tab"].active').first().innerText().catch(() => '')) || '').replace(/\s+/g, ' ').trim();
  }

  /** The text of every notification toast and of the notification center. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notification-toast, .notifications-center .notification-list-item').allInnerTexts();
  }

  /** The labels of the open context menu's items (waits for the menu). */
  async contextMenuItems(): Promise<string[]> {
    const menu = this.page.locator('.context-view .monaco-menu, .monaco-menu-container .monaco-menu').first();
    await menu.waitFor({ timeout: 10_000 });
    return (await menu.locator('.action-label').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  }

  /**
   * Clicks an item of the open context menu. A menu ignores a click that lands while it is still opening (seen
   * under load: the menu stayed open and every later click hit it), so the click is repeated while it stays open.
   */
  async clickMenuItem(label: string): Promise<void> {
    const item = this.page.locator('.context-view .monaco-menu .action-label', { hasText: label }).first();
    await item.waitFor({ timeout: 10_000 });
    for (let attempt = 0; attempt < 4 && (await item.isVisible()); attempt++) {
      await item.hover();
      await item.click({ timeout: 5_000 }).catch(() => undefined);
      await this.page.waitForTimeout(400);
    }
    if (await item.isVisible()) throw new Error(`the context menu item "${label}" stayed open after 4 clicks`);
  }

  /** Clicks the run row and waits for its details panel (tab "Run xxxx", webview body matching `bodyText`). */
  async openRunDetails(runRow: Locator, shortId: string, bodyText: RegExp): Promise<void> {
    const page = this.page;
    await this.step(`the Run details editor tab (Run ${shortId}) after clicking the run row`, async () => {
      await runRow.click();
      await page.locator('.tabs-container [role="tab"]', { hasText: new RegExp(`Run ${shortId}|Run`) }).first().waitFor({ timeout: 30_000 });
    });
    const tab = page.locator('.tabs-container [role="tab"]', { hasText: new RegExp(`Run #?${shortId}`) }).first();
    await this.step(`the tab titled "Run ${shortId} …"`, () => tab.waitFor({ timeout: 30_000 }));
    await this.step('the details webview to render (its frame)', async () => {
      // Webviews live in an overlay outside .part.editor, positioned over it: find the visible one.
      const outer = page.locator('iframe.webview.ready:visible').first();
      await outer.waitFor({ state: 'visible', timeout: 30_000 });
      const frame = outer.contentFrame().frameLocator('iframe#active-frame');
      await frame.locator('body', { hasText: bodyText }).waitFor({ timeout: 30_000 });
    });
  }

  /** The workspace holds exactly one run record, Completed, of `script`: the run the tree showed as #shortId. */
  async expectOneCompletedRunOnDisk(workspace: string, script: string, shortId: string): Promise<void> {
    await this.step('the run record, Completed, on disk', async () => {
      const runsDir = path.join(workspace, '.mlw', 'runs');
      const records = fs.readdirSync(runsDir)
        .map((id) => path.join(runsDir, id, 'run.json'))
        .filter((f) => fs.existsSync(f))
        .map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as { id: string; status: string; script: string });
      assert.equal(records.length, 1, `one run record under ${runsDir}`);
      assert.equal(records[0].status, 'Completed');
      assert.equal(records[0].script, script);
      assert.ok(records[0].id.endsWith(shortId), `run ${records[0].id} is the one shown as #${shortId}`);
    });
  }
}
