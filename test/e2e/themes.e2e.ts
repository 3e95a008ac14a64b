/**
 * The webviews in a light and a dark colour theme, through the real workbench (code-server + Chromium): three
 * real runs of one script with three learning rates (made with the `mlw` CLI on the real Docker engine, as a
 * data scientist would from a terminal), then Run details, Compare and the experiments table opened by clicks
 * and the palette in "Default Light Modern" and "Default Dark Modern". Each webview must follow the theme (its
 * background dark or light as the workbench's, its text readable on it) and is saved as a screenshot in
 * out/screenshots/ (`npm run screenshots` copies them to media/screenshots/ for the README).
 *
 *   node esbuild.mjs && MLW_TEST_BASE_IMAGE=... npx mocha --no-config --timeout 600000 out/test/e2e/themes.e2e.js
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { LaunchedWorkbench, launchWorkbench } from '../harness/launchWorkbench';
import { REPO_ROOT, createTestWorkspace, removeTestWorkspace, testBaseImage } from '../harness/testWorkspace';
import { WorkbenchDriver } from '../harness/workbenchDriver';

const SCREENSHOTS = process.env.MLW_SCREENSHOTS_DIR || path.join(REPO_ROOT, 'out', 'screenshots');

// A training script as a user writes it: arguments, a curve per step, a final metric with its goal, a figure.
const SCRIPT = `import argparse
import math
import os

import mlw

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--model", default="mlp")
args = p.parse_args()
mlw.log_params(vars(args))
loss = 1.0
for step in range(40):
    loss = loss * (1 - args.lr) + 0.02 * math.sin(step)
    mlw.log_metric("loss", abs(loss), step=step)
    mlw.log_metric("val_accuracy", 0.9 + 0.08 * (1 - math.exp(-args.lr * step)), step=step, goal="max")
os.makedirs("outputs", exist_ok=True)
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.figure(figsize=(3, 2))
plt.plot([abs(1 - args.lr) ** s for s in range(40)])
plt.title("loss, lr=%s" % args.lr)
plt.savefig("outputs/curve.png")
with open("outputs/predictions.csv", "w") as f:
    f.write("id,label,score\\n1,cat,0.91\\n2,dog,0.84\\n")
print("trained with lr", args.lr)
`;

const THEMES = [
  { name: 'Default Light Modern', slug: 'light', dark: false },
  { name: 'Default Dark Modern', slug: 'dark', dark: true },
];

// Runs in the page, where the DOM's getComputedStyle exists; this file is type-checked without the DOM library.
type StyleOf = (el: unknown) => { backgroundColor: string; color: string };

/** Relative luminance (WCAG) of a CSS rgb()/rgba() colour. */
function luminance(css: string): number {
  const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)/.exec(css);
  if (!m) throw new Error(`not an rgb colour: ${css}`);
  const [r, g, b] = m.slice(1, 4).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: number, b: number): number {
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

describe('the webviews in light and dark themes (code-server + Chromium)', function () {
  this.timeout(600_000);
  let workspace: string;

  before(async function () {
    workspace = createTestWorkspace('mlw-e2e-themes-');
    fs.writeFileSync(path.join(workspace, 'scripts', 'train_lr.py'), SCRIPT);
    const cli = path.join(REPO_ROOT, 'bin', 'mlw');
    for (const lr of ['0.05', '0.1', '0.3']) {
      execFileSync(process.execPath, [cli, 'run', '--base-image', testBaseImage(), 'scripts/train_lr.py', '--', '--lr', lr], {
        cwd: workspace, stdio: 'pipe', timeout: 180_000,
      });
    }
  });

  after(function () {
    if (workspace) removeTestWorkspace(workspace);
  });

  for (const theme of THEMES) {
    describe(theme.name, function () {
      let workbench: LaunchedWorkbench | undefined;
      let ui: WorkbenchDriver;

      before(async function () {
        workbench = await launchWorkbench(workspace, { settings: { 'workbench.colorTheme': theme.name } });
        ui = workbench.ui;
        await ui.openRunsView();
        await ui.step('the three runs in the Runs tree', () =>
          ui.until(async () => (await ui.runsTreeRows().filter({ hasText: '#' }).count()) >= 3, 60_000,
            async () => JSON.stringify(await ui.runsTreeRows().allInnerTexts())));
      });

      after(async function () {
        await workbench?.close();
      });

      /** The visible webview's content frame. */
      function webview(): FrameLocator {
        return ui.page.locator('iframe.webview.ready:visible').first().contentFrame().frameLocator('iframe#active-frame');
      }

      /** The webview follows the theme: background as dark/light as the workbench's, body text readable on it. */
      async function expectThemed(what: string): Promise<void> {
        const workbenchBg = await ui.page.locator('.monaco-workbench').evaluate((el) => (globalThis as unknown as { getComputedStyle: StyleOf }).getComputedStyle(el).backgroundColor);
        const { bg, fg } = await webview().locator('body').evaluate((el) => {
          const style = (globalThis as unknown as { getComputedStyle: StyleOf }).getComputedStyle.bind(globalThis);
          const s = style(el);
          const htmlBg = style(el.ownerDocument.documentElement).backgroundColor;
          const transparent = (c: string) => c === 'rgba(0, 0, 0, 0)' || c === 'transparent';
          return { bg: transparent(s.backgroundColor) ? htmlBg : s.backgroundColor, fg: s.color };
        });
        const lb = luminance(bg);
        assert.equal(lb < 0.25, theme.dark, `${what}: background ${bg} (workbench ${workbenchBg}) should be ${theme.dark ? 'dark' : 'light'}`);
        assert.equal(luminance(workbenchBg) < 0.25, theme.dark, `the workbench itself is ${theme.slug} (${workbenchBg})`);
        const ratio = contrast(lb, luminance(fg));
        assert.ok(ratio >= 4.5, `${what}: text ${fg} on ${bg} has contrast ${ratio.toFixed(2)} (WCAG AA asks 4.5)`);
      }

      async function screenshot(name: string): Promise<void> {
        fs.mkdirSync(SCREENSHOTS, { recursive: true });
        await ui.page.mouse.move(5, 700);
        await ui.page.waitForTimeout(800);
        await ui.page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${theme.slug}.png`) });
      }

      it('shows Run details in the theme, with the run\'s curves and its figure', async () => {
        const row = ui.runsTreeRows().filter({ hasText: 'lr=0.3' }).first();
        const shortId = /#([0-9a-z]{4})/i.exec(await row.innerText())?.[1] ?? '';
        await ui.openRunDetails(row, shortId, /val_accuracy/);
        await expectThemed('Run details');
        await screenshot('run-details');
      });

      it('shows Compare in the theme, the three runs\' curves side by side', async () => {
        const rows = ui.runsTreeRows().filter({ hasText: '#' });
        await rows.nth(0).click();
        await rows.nth(1).click({ modifiers: ['Shift'] });
        await rows.nth(2).click({ modifiers: ['Shift'] });
        await rows.nth(2).click({ button: 'right' });
        await ui.clickMenuItem('Compare Runs');
        await ui.step('the compare panel with the three runs', async () => {
          await ui.until(async () => (await ui.activeTab()).includes('Compare') || undefined, 30_000, async () => ui.activeTab());
          await webview().locator('body', { hasText: 'val_accuracy' }).waitFor({ timeout: 30_000 });
        });
        await expectThemed('Compare');
        await screenshot('compare');
      });

      if (!theme.dark) {
        it('registers a run\'s output as a model from the Runs view by clicks; the Models view lists it', async () => {
          const row = ui.runsTreeRows().filter({ hasText: 'lr=0.1' }).first();
          const shortId = /#([0-9a-z]{4})/i.exec(await row.innerText())?.[1] ?? '';
          await row.click();
          // The click opens the run's details, whose webview takes focus as it loads and would close a menu opened
          // before: wait for its tab, then open the menu (again if it closed).
          await ui.step('the details of the clicked run', () =>
            ui.until(async () => (await ui.activeTab()).includes(shortId) || undefined, 30_000, async () => `active tab: ${await ui.activeTab()}`));
          await ui.step('the run\'s context menu with Register Model…', async () => {
            for (let attempt = 0; attempt < 4; attempt++) {
              await ui.page.waitForTimeout(500);
              await row.click({ button: 'right' });
              const items = await ui.contextMenuItems().catch(() => [] as string[]);
              if (items.includes('Register Model…')) return;
              await ui.page.keyboard.press('Escape');
            }
            throw new Error('the context menu never offered Register Model…');
          });
          await ui.clickMenuItem('Register Model…');
          await ui.step('the outputs of the run to choose from', async () => {
            const pick = await ui.pickRow('outputs/predictions.csv');
            await pick.click();
          });
          await ui.step('the name box, suggested from the file', async () => {
            await ui.until(async () => (await ui.quickInputBox().inputValue()) === 'predictions' || undefined, 10_000, async () => ui.quickInputBox().inputValue());
            await ui.quickInputBox().fill('lr-predictions');
            await ui.page.keyboard.press('Enter');
          });
          await ui.step('the description box (skipped with Enter)', async () => {
            await ui.until(async () => /description/.test(await ui.quickInput().innerText()) || undefined, 10_000, async () => ui.quickInput().innerText());
            await ui.page.keyboard.press('Enter');
          });
          const models = ui.page.locator('.part.sidebar .pane', { has: ui.page.locator('.pane-header', { hasText: /Models/i }) });
          await ui.step('the Models view lists lr-predictions v1 from run lr=0.1', async () => {
            const header = models.locator('.pane-header').first();
            if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
            await ui.until(async () => {
              const text = (await models.locator('[role="treeitem"]').allInnerTexts().catch(() => [])).join(' | ');
              return /lr-predictions/.test(text) && /v1/.test(text) && /run #/.test(text) ? text : undefined;
            }, 30_000, async () => (await models.innerText().catch(() => '')).replace(/\s+/g, ' '));
          });
          const record = JSON.parse(fs.readFileSync(path.join(workspace, '.mlw', 'models', 'lr-predictions', 'v1.json'), 'utf8')) as { source: { params: { lr: number } } };
          assert.equal(record.source.params.lr, 0.1);
        });
      }
    });
  }
});
