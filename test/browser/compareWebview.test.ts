/**
 * The Compare Runs webview in real Chromium (playwright-core), loaded from dist/webviews/compare.js under the
 * panel's strict CSP (nonce script only, no 'unsafe-eval'), with a stub acquireVsCodeApi and fixture state
 * posted as the extension would. No network: any request but the bundle is refused and recorded.
 * Run with plain mocha after `node esbuild.mjs`: npx mocha --no-config out/test/browser/compareWebview.test.js
 */
import * as assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { MetricPoint, TrackingData, emptyTracking } from '../../src/model/runs/tracking';
import type { CompareState, FromWebview } from '../../src/views/protocol/compare';
import { buildCompareState, sortRows, tableToCsv } from '../../src/views/protocol/compareData';
import { ComparePage, launchChromium, openComparePage, svgSummary } from './comparePage';
import { completedRunRecord } from '../harness/runFixtures';

type Rendered = Extract<FromWebview, { type: 'rendered' }>;
type Appended = Extract<FromWebview, { type: 'appended' }>;
type ExportChart = Extract<FromWebview, { type: 'exportChart' }>;

const record = completedRunRecord;

function tracking(metrics: Record<string, number[]>, params: Record<string, unknown>, goals: TrackingData['goals'] = {}): TrackingData {
  const t = emptyTracking();
  for (const [name, values] of Object.entries(metrics)) t.metrics[name] = values.map((value, step): MetricPoint => ({ step, value, t: 1000 + step }));
  t.params = params;
  t.goals = goals;
  return t;
}

const IDS = ['20261125-100000-aaaa', '20261125-100000-bbbb', '20261125-100000-cccc'];

export function fixtureState(): CompareState {
  const curve = (scale: number) => Array.from({ length: 50 }, (_, i) => scale / (i + 1));
  return buildCompareState(
    [
      { run: record(IDS[0]), tracking: tracking({ loss: curve(1), accuracy: [0.5, 0.7, 0.8] }, { lr: 0.1, layers: 3, opt: 'adam' }, { accuracy: 'max' }) },
      { run: record(IDS[1]), tracking: tracking({ loss: curve(2), accuracy: [0.6, 0.9] }, { lr: 0.01, layers: 4, opt: 'sgd' }) },
      { run: record(IDS[2], { status: 'Running', endedAt: undefined }), tracking: tracking({ loss: curve(0.5) }, { lr: 0.001, layers: 2, opt: 'adam' }) },
    ],
    { folder: 'file:///workspace', folderName: 'workspace' },
  );
}

describe('Compare webview in Chromium (strict CSP, no network)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let cp: ComparePage;
  let rendered: Rendered;

  before(async () => {
    browser = await launchChromium();
    cp = await openComparePage(browser, { runIds: IDS });
  });

  after(async () => {
    await browser?.close();
  });

  it('says ready, then renders every chart with one series per run from the posted state', async () => {
    await cp.waitForPosted((m) => m.type === 'ready');
    await cp.send({ type: 'state', version: 1, state: fixtureState() });
    rendered = await cp.waitForPosted<Rendered>((m) => m.type === 'rendered' && m.version === 1);
    assert.deepEqual(rendered.errors, []);
    const byId = Object.fromEntries(rendered.charts.map((c) => [c.id, c]));
    assert.deepEqual(Object.keys(byId).sort(), ['bar:accuracy', 'bar:loss', 'line:accuracy', 'line:loss', 'parallel', 'scatter']);
    assert.equal(byId['line:loss'].series, 3);
    assert.equal(byId['line:accuracy'].series, 2);
    assert.equal(byId['bar:loss'].series, 3);
    assert.equal(byId.parallel.series, 3);
    assert.equal(byId.scatter.series, 3);

    // What is really in the SVGs: one path per run in each line chart, one polyline per run in parallel coordinates.
    const svg = await svgSummary(cp.page);
    assert.equal(svg['line:loss'].lines, 3);
    assert.equal(svg['line:accuracy'].lines, 2);
    assert.equal(svg.parallel.lines, 3);
    assert.equal(svg['bar:loss'].bars, 3);
    assert.equal(svg.scatter.points, 3);
    // The same colour for a run across charts: the first run's loss line and its accuracy line.
    const strokes = await cp.page.evaluate(() =>
      ['line:loss', 'line:accuracy'].map((id) => document.querySelector(`[data-testid="chart:${id}"] g.mark-line path`)?.getAttribute('stroke')),
    );
    assert.equal(strokes[0], strokes[1]);
    assert.equal(strokes[0], '#3794ff', 'the theme colour (--vscode-charts-blue)');
  });

  it('uses the toolkit components under the CSP, with no violation and no request beyond the bundle', async () => {
    const mode = await cp.page.evaluate(() => document.querySelector('.page')?.getAttribute('data-toolkit-mode'));
    assert.equal(mode, 'toolkit');
    assert.ok(await cp.page.evaluate(() => !!document.querySelector('vscode-checkbox')?.shadowRoot), 'toolkit checkboxes rendered');
    assert.deepEqual(await cp.violations(), []);
    assert.deepEqual(cp.blocked, []);
    assert.deepEqual(cp.consoleErrors, []);
  });

  it('marks the best final value and the differing columns in the table', async () => {
    const cells = await cp.page.evaluate(() =>
      Array.from(document.querySelectorAll('[data-testid="runs-table"] td.best')).map((td) => (td as HTMLElement).dataset.testid),
    );
    // loss: lowest final (run cccc: 0.5/50); accuracy: highest final (bbbb: 0.9).
    assert.deepEqual(cells.sort(), [`cell:${IDS[1]}:metric:accuracy`, `cell:${IDS[2]}:metric:loss`].sort());
    const differing = await cp.page.evaluate(() => Array.from(document.querySelectorAll('th.differs')).map((th) => (th as HTMLElement).dataset.testid));
    assert.ok(differing.includes('sort:param:lr') && differing.includes('sort:param:opt') && differing.includes('sort:status'), JSON.stringify(differing));
    assert.ok(!differing.includes('sort:commit'));
  });

  it('adds live points with a changeset, without re-rendering', async () => {
    const before = (await cp.posted()).length;
    await cp.page.evaluate(() => {
      (document.querySelector('[data-testid="chart:line:loss"] svg') as SVGElement & { __marker?: boolean }).__marker = true;
    });
    await cp.send({ type: 'append', version: 1, runId: IDS[2], metric: 'loss', points: { steps: [50, 51], times: [50, 51], values: [0.009, 0.008] }, final: 0.008 });
    const appended = await cp.waitForPosted<Appended>((m) => m.type === 'appended', before);
    assert.deepEqual(appended, { type: 'appended', version: 1, runId: IDS[2], metric: 'loss', points: 52, errors: [] });
    const still = await cp.page.evaluate(() => (document.querySelector('[data-testid="chart:line:loss"] svg') as SVGElement & { __marker?: boolean }).__marker === true);
    assert.ok(still, 'the same SVG element: not re-rendered');
    assert.ok(!(await cp.posted()).slice(before).some((m) => m.type === 'rendered'), 'no render happened');
    const cell = await cp.page.evaluate((id) => document.querySelector(`[data-testid="cell:${id}:metric:loss"]`)?.textContent, IDS[2]);
    assert.equal(cell, '★ 0.008');
    // An append for a state the webview no longer shows is ignored.
    await cp.send({ type: 'append', version: 0, runId: IDS[2], metric: 'loss', points: { steps: [52], times: [52], values: [1] }, final: 1 });
  });

  it('redraws the charts when a metric is unticked, and reports the view to the extension', async () => {
    const before = (await cp.posted()).length;
    await cp.send({ type: 'test:click', testId: 'metric:accuracy' });
    const again = await cp.waitForPosted<Rendered>((m) => m.type === 'rendered', before);
    assert.deepEqual(again.charts.map((c) => c.id).sort(), ['bar:loss', 'line:loss', 'parallel', 'scatter']);
    const setView = (await cp.posted()).slice(before).find((m) => m.type === 'setView') as Extract<FromWebview, { type: 'setView' }> | undefined;
    assert.deepEqual(setView?.view.metrics, ['loss']);
    const saved = await cp.page.evaluate(() => (window as unknown as { __state: unknown }).__state);
    assert.deepEqual((saved as { runIds: string[] }).runIds, IDS);
    assert.equal((saved as { folder: string }).folder, 'file:///workspace');
    assert.equal(again.charts.find((c) => c.id === 'line:loss')?.series, 3, 'the appended points survived the redraw');
  });

  it('smooths with the slider and switches to a log scale', async () => {
    let before = (await cp.posted()).length;
    await cp.page.evaluate(() => {
      const input = document.querySelector('[data-testid="smoothing:input"]') as HTMLInputElement;
      input.value = '0.9';
      input.dispatchEvent(new Event('input'));
    });
    await cp.waitForPosted<Rendered>((m) => m.type === 'rendered', before);
    before = (await cp.posted()).length;
    await cp.send({ type: 'test:click', testId: 'log-scale' });
    const logged = await cp.waitForPosted<Rendered>((m) => m.type === 'rendered', before);
    assert.deepEqual(logged.errors, []);
    assert.equal((await svgSummary(cp.page))['line:loss'].lines, 3);
  });

  it('exports charts as SVG and PNG when asked, and asks for the table as CSV', async () => {
    let before = (await cp.posted()).length;
    await cp.send({ type: 'requestExport', requestId: 7, chartId: 'line:loss', format: 'svg' });
    const svg = await cp.waitForPosted<ExportChart>((m) => m.type === 'exportChart', before);
    assert.equal(svg.requestId, 7);
    assert.match(svg.data, /^<svg[\s\S]*<\/svg>$/);
    before = (await cp.posted()).length;
    await cp.send({ type: 'requestExport', requestId: 8, chartId: 'parallel', format: 'png' });
    const png = await cp.waitForPosted<ExportChart>((m) => m.type === 'exportChart', before);
    assert.ok(png.data.startsWith('data:image/png;base64,'));
    assert.ok(Buffer.from(png.data.split(',')[1], 'base64').subarray(1, 4).toString() === 'PNG');

    before = (await cp.posted()).length;
    await cp.send({ type: 'test:click', testId: 'sort:metric:loss' });
    await cp.send({ type: 'test:click', testId: 'export-csv' });
    const csv = await cp.waitForPosted((m) => m.type === 'exportCsv', before);
    assert.deepEqual(csv, { type: 'exportCsv', sort: { key: 'metric:loss', descending: false } });
    const order = await cp.page.evaluate(() => Array.from(document.querySelectorAll('[data-testid^="row:"]')).map((r) => (r as HTMLElement).dataset.testid));
    assert.deepEqual(order, [`row:${IDS[2]}`, `row:${IDS[0]}`, `row:${IDS[1]}`]);
    assert.deepEqual(await cp.violations(), []);
    assert.deepEqual(cp.blocked, []);
  });

  it('sorts the table as the CSV export does, -Infinity below every number', async () => {
    const ids = ['20261125-110000-aaaa', '20261125-110000-bbbb', '20261125-110000-cccc', '20261125-110000-dddd'];
    const finals = [-3, 5, 10, -Infinity];
    const state = buildCompareState(
      finals.map((v, i) => ({ run: record(ids[i]), tracking: tracking({ score: [0, v] }, { lr: i }) })),
      { folder: 'file:///workspace', folderName: 'workspace' },
    );
    const other = await openComparePage(browser, { runIds: ids });
    try {
      await other.waitForPosted((m) => m.type === 'ready');
      await other.send({ type: 'state', version: 1, state });
      await other.waitForPosted<Rendered>((m) => m.type === 'rendered');
      const rows = () => other.page.evaluate(() => Array.from(document.querySelectorAll('[data-testid^="row:"]')).map((r) => (r as HTMLElement).dataset.testid!.slice('row:'.length)));
      const cells = () => other.page.evaluate(() => Array.from(document.querySelectorAll('[data-testid^="cell:"][data-testid$=":metric:score"]')).map((c) => c.textContent?.replace('★ ', '')));
      for (const descending of [false, true]) {
        await other.send({ type: 'test:click', testId: 'sort:metric:score' });
        const expected = sortRows(state.table, 'metric:score', descending).map((r) => r.runId);
        assert.deepEqual(await rows(), expected, descending ? 'descending' : 'ascending');
        const csv = tableToCsv(state.table, { key: 'metric:score', descending }).split('\r\n').slice(1, -1);
        assert.deepEqual(csv.map((l) => l.split(',')[0]), expected, 'the CSV has the order the table shows');
        assert.deepEqual((await cells()).map((t) => (t === '-Infinity' ? "'-Infinity" : t)), csv.map((l) => l.split(',').at(-1)), 'and the same numbers');
      }
      assert.deepEqual(sortRows(state.table, 'metric:score', false).map((r) => r.runId), [ids[3], ids[0], ids[1], ids[2]]);
      assert.deepEqual(await other.violations(), []);
    } finally {
      await other.page.context().close();
    }
  });

  it('renders readable charts in the light and high-contrast themes too', async () => {
    for (const theme of ['vscode-light', 'vscode-high-contrast'] as const) {
      const other = await openComparePage(browser, { runIds: IDS, theme });
      await other.waitForPosted((m) => m.type === 'ready');
      await other.send({ type: 'state', version: 1, state: fixtureState() });
      const r = await other.waitForPosted<Rendered>((m) => m.type === 'rendered');
      assert.deepEqual(r.errors, [], theme);
      const labelFill = await other.page.evaluate(() => document.querySelector('[data-testid="chart:line:loss"] g.mark-text.role-axis-label text')?.getAttribute('fill'));
      assert.equal(labelFill, theme === 'vscode-light' ? '#717171' : '#9d9d9d', `${theme}: axis labels in --vscode-descriptionForeground`);
      assert.deepEqual(await other.violations(), []);
      await other.page.context().close();
    }
  });
});
