/**
 * The Run details webview in real Chromium (playwright-core), loaded from dist/webviews/runDetails.js under the
 * panel's strict CSP, with a stub acquireVsCodeApi. States are built by the host's own code
 * (buildRunDetailsState, OutputPreviews reading real files in a temporary outputs folder), posted as the
 * extension posts them, and the test asserts what the page shows and what it posts back.
 * Run with plain mocha after `node esbuild.mjs`: npx mocha --no-config out/test/browser/runDetailsWebview.test.js
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { MetricPoint, emptyTracking } from '../../src/model/runs/tracking';
import { listOutputs } from '../../src/runner/artifacts';
import { OutputPreviews } from '../../src/views/details/outputPreviews';
import type { FromWebview, RunDetailsState } from '../../src/views/protocol/runDetails';
import { buildRunDetailsState, deletedRunState } from '../../src/views/protocol/runDetailsData';
import { MAX_IMAGE_BYTES } from '../../src/views/protocol/runDetailsPreviews';
import { completedRunRecord } from '../harness/runFixtures';
import { launchChromium } from './comparePage';
import { DetailsPage, openDetailsPage } from './runDetailsPage';

type Rendered = Extract<FromWebview, { type: 'rendered' }>;

const ID = '20261202-100000-d3t1';
/** A real 1×1 PNG. */
export const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

async function fixture(dir: string, over: Parameters<typeof completedRunRecord>[1] = {}, traceback?: string): Promise<RunDetailsState> {
  const outputs = path.join(dir, 'outputs');
  fs.mkdirSync(path.join(outputs, 'plots'), { recursive: true });
  fs.writeFileSync(path.join(outputs, 'plots', 'confusion.png'), PNG_1X1);
  // An SVG carrying a script: shown as an <img>, the script never runs.
  fs.writeFileSync(path.join(outputs, 'curve.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><script>window.__svgRan = 1</script><rect width="20" height="10" fill="#3794ff"/></svg>');
  fs.writeFileSync(path.join(outputs, 'predictions.csv'), 'id,label,"note, quoted"\n1,cat,"a ""b"""\n2,dog,x\n');
  fs.writeFileSync(path.join(outputs, 'metrics.json'), JSON.stringify({ accuracy: 0.97, classes: ['a', 'b'] }));
  const big = Buffer.alloc(MAX_IMAGE_BYTES + 1);
  PNG_1X1.copy(big);
  fs.writeFileSync(path.join(outputs, 'huge.png'), big);
  const t = emptyTracking();
  t.metrics.loss = Array.from({ length: 11 }, (_, step): MetricPoint => ({ step, value: 1 / (step + 1), t: 1000 + step }));
  t.metrics.accuracy = [0.5, 0.75, 0.9].map((value, step): MetricPoint => ({ step, value, t: 1000 + step }));
  t.goals = { accuracy: 'max' };
  const listed = await listOutputs(outputs);
  return buildRunDetailsState(completedRunRecord(ID, over), t, listed, {
    folder: 'file:///workspace',
    folderName: 'workspace',
    hasPatch: false,
    hasBuildLog: false,
    hasLogs: true,
    environmentFileAvailable: false,
    previews: await new OutputPreviews(outputs).read(listed),
    traceback,
  });
}

const text = (dp: DetailsPage, testId: string) => dp.page.evaluate((id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? null, testId);

describe('Run details webview in Chromium (strict CSP, no network)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let dp: DetailsPage;
  let dir: string;
  let version = 0;

  async function show(state: unknown): Promise<Rendered> {
    const before = (await dp.posted()).length;
    await dp.send({ type: 'state', version: ++version, state });
    return dp.waitForPosted<Rendered>((m) => m.type === 'rendered' && m.version === version, before);
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-details-'));
    browser = await launchChromium();
    dp = await openDetailsPage(browser, ID);
    await dp.waitForPosted((m) => m.type === 'ready');
  });

  after(async () => {
    await browser?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('draws a full-size chart per metric, with the hovered point\'s step and value as text', async () => {
    const rendered = await show(await fixture(dir));
    assert.deepEqual(rendered.errors, []);
    assert.equal(rendered.charts, 2);
    assert.equal(rendered.sparklines, 2);
    const paths = await dp.page.evaluate(() => Array.from(document.querySelectorAll('[data-testid^="chart:"] svg path.series')).map((p) => (p.getAttribute('d') ?? '').split('L').length));
    assert.deepEqual(paths, [11, 3], 'one vertex per point: loss has 11, accuracy 3');
    const box = await dp.page.locator('[data-testid="chart:loss"] svg').boundingBox();
    assert.ok(box && box.width >= 400, `a full-size chart, ${box?.width}px wide`);
    // Over the right end of the plot: the last step.
    await dp.page.mouse.move(box.x + box.width - 14, box.y + box.height / 2);
    assert.equal(await text(dp, 'hover:loss'), 'step 10: loss = 0.0909091');
    await dp.page.mouse.move(box.x + 57, box.y + box.height / 2);
    assert.equal(await text(dp, 'hover:loss'), 'step 0: loss = 1');
  });

  it('reads "Final" for an ended run and says which goals were inferred', async () => {
    const header = await dp.page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="metrics-table"] th')).map((th) => th.textContent));
    assert.equal(header[1], 'Final');
    assert.equal(await text(dp, 'goal:accuracy'), '↑ max best 0.9', 'set by the script');
    assert.equal(await text(dp, 'goal:loss'), '↓ min (inferred) best 0.0909091', 'inferred from the name');
  });

  it('shows PNG and SVG outputs inline as images, CSV and JSON as tables, and lists the image too large to load', async () => {
    const images = await dp.page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid^="image:"]')).map((img) => ({ id: img.dataset.testid, src: img.src.slice(0, 22), w: img.naturalWidth })),
    );
    assert.deepEqual(images, [
      { id: 'image:curve.svg', src: 'data:image/svg+xml;bas', w: 20 },
      { id: 'image:plots/confusion.png', src: 'data:image/png;base64,', w: 1 },
    ]);
    assert.equal((await dp.posted()).filter((m) => m.type === 'rendered').at(-1)?.images, 2);
    assert.equal(await dp.page.evaluate(() => (window as unknown as { __svgRan?: number }).__svgRan), undefined, "the SVG's script did not run");
    assert.equal(await dp.page.evaluate(() => document.querySelectorAll('[data-testid="previews"] svg').length), 0, 'no SVG markup in the page');
    const csv = await dp.page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="table:predictions.csv"] tr')).map((tr) => Array.from(tr.children).map((c) => c.textContent)));
    assert.deepEqual(csv, [['id', 'label', 'note, quoted'], ['1', 'cat', 'a "b"'], ['2', 'dog', 'x']]);
    const json = await dp.page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="table:metrics.json"] tbody tr')).map((tr) => Array.from(tr.children).map((c) => c.textContent)));
    assert.deepEqual(json, [['accuracy', '0.97'], ['classes', '["a","b"]']]);
    assert.match((await text(dp, 'listed:huge.png')) ?? '', /huge\.png.*Not previewed: 2\.0 MB: larger than the 2\.0 MB shown inline/);
    assert.deepEqual(await dp.violations(), []);
    assert.deepEqual(dp.blocked, []);
  });

  it('posts the run actions of an ended run: Rerun, Modify and Rerun, Star, Delete (no Cancel)', async () => {
    const ids = await dp.page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('[data-testid^="action:"]')).map((b) => b.dataset.testid));
    assert.deepEqual(ids, ['action:rerun', 'action:modifyAndRerun', 'action:star', 'action:delete']);
    for (const action of ['rerun', 'modifyAndRerun', 'star', 'delete']) {
      const before = (await dp.posted()).length;
      await dp.page.click(`[data-testid="action:${action}"]`);
      assert.deepEqual(await dp.waitForPosted((m) => m.type === 'runAction', before), { type: 'runAction', action });
    }
  });

  it('reads "Latest" while the run is going, offers Cancel and Unstar (no Delete), and shows a failed run\'s traceback by its reason', async () => {
    const live = await fixture(dir, { status: 'Running', endedAt: undefined, starred: true });
    await show(live);
    const header = await dp.page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="metrics-table"] th')).map((th) => th.textContent));
    assert.equal(header[1], 'Latest');
    const ids = await dp.page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('[data-testid^="action:"]')).map((b) => b.dataset.testid));
    assert.deepEqual(ids, ['action:cancel', 'action:unstar'], 'no Delete while it runs (the command refuses it)');
    const before = (await dp.posted()).length;
    await dp.page.click('[data-testid="action:cancel"]');
    assert.deepEqual(await dp.waitForPosted((m) => m.type === 'runAction', before), { type: 'runAction', action: 'cancel' });

    const tb = 'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\n    raise ValueError("<b>bad</b>")\nValueError: <b>bad</b>';
    await show(await fixture(dir, { status: 'Failed', exitCode: 1, reason: 'Script exited with code 1.' }, tb));
    assert.equal(await text(dp, 'reason'), ' Script exited with code 1.');
    assert.equal(await text(dp, 'traceback'), tb, 'as text: the markup in the message is not parsed');
    assert.equal(await dp.page.evaluate(() => document.querySelectorAll('[data-testid="traceback"] b').length), 0);
  });

  it('clears everything of a deleted run and says so', async () => {
    const r = await show(deletedRunState(ID, 'file:///workspace', 'workspace'));
    assert.deepEqual(r.errors, []);
    assert.match((await text(dp, 'deleted-message')) ?? '', new RegExp(`Run ${ID} was deleted from workspace`));
    const left = await dp.page.evaluate(() => ({
      charts: document.querySelectorAll('[data-testid^="chart:"]').length,
      images: document.querySelectorAll('img').length,
      actions: document.querySelectorAll('[data-testid^="action:"]').length,
      metrics: document.querySelectorAll('[data-testid="metrics-table"]').length,
    }));
    assert.deepEqual(left, { charts: 0, images: 0, actions: 0, metrics: 0 });
    assert.equal(await dp.page.evaluate(() => (window as unknown as { __state: unknown }).__state), undefined, 'nothing saved to restore after a reload');
    assert.deepEqual(await dp.violations(), []);
    assert.deepEqual(dp.consoleErrors, []);
  });
});
