/**
 * Metric and param names are the script's: "constructor", "toString", "__proto__" and the like must chart and
 * tabulate like any other name. Real Chromium, the built webview, state built from real tracking lines.
 */
import * as assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { applyEvents, emptyTracking, parseTrackingEvent } from '../../src/model/runs/trackingEvents';
import type { TrackingEvent } from '../../src/model/runs/trackingEvents';
import type { FromWebview } from '../../src/views/protocol/compare';
import { buildCompareState } from '../../src/views/protocol/compareData';
import { completedRunRecord } from '../harness/runFixtures';
import { ComparePage, launchChromium, openComparePage, svgSummary } from './comparePage';

type Rendered = Extract<FromWebview, { type: 'rendered' }>;
type Appended = Extract<FromWebview, { type: 'appended' }>;

const NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];
const IDS = ['20261125-100000-aaaa', '20261125-100000-bbbb'];

/** Tracking data as the host reads it from events.jsonl lines that the mlw module wrote. */
function trackingFrom(scale: number) {
  const lines: string[] = [];
  for (const name of NAMES) {
    for (let step = 0; step < 3; step++) lines.push(JSON.stringify({ kind: 'metric', name, value: scale * (step + 1), step, t: 1000 + step }));
    lines.push(JSON.stringify({ kind: 'param', name, value: scale, t: 1000 }));
  }
  return applyEvents(emptyTracking(), lines.map((l) => parseTrackingEvent(l)).filter((e): e is TrackingEvent => !!e));
}

/**
 * Posts a message the way the extension's travels, as JSON parsed in the page: playwright's own argument
 * serialisation would turn an own "__proto__" key into a prototype before the webview saw it.
 */
function sendJson(cp: ComparePage, message: unknown): Promise<void> {
  return cp.page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(message));
}

describe('Compare webview with metric and param names such as "constructor" (Chromium)', function () {
  this.timeout(60_000);
  let browser: Browser;
  after(() => browser?.close());

  it('draws every chart and column for them, and takes live points for "__proto__"', async () => {
    browser = await launchChromium();
    const cp = await openComparePage(browser, { runIds: IDS });
    await cp.waitForPosted((m) => m.type === 'ready');
    const state = buildCompareState(IDS.map((id, i) => ({ run: completedRunRecord(id), tracking: trackingFrom(i + 1) })), { folder: 'file:///workspace', folderName: 'workspace' });
    state.view = { ...state.view, metrics: NAMES, params: NAMES, scatterX: 'constructor', scatterY: 'toString' };
    await sendJson(cp, { type: 'state', version: 1, state });
    const rendered = await cp.waitForPosted<Rendered>((m) => m.type === 'rendered' && m.version === 1);
    assert.deepEqual(rendered.errors, []);
    const expected = [...NAMES.flatMap((n) => [`bar:${n}`, `line:${n}`]), 'parallel', 'scatter'].map((id) => `${id}=2`);
    assert.deepEqual(rendered.charts.map((c) => `${c.id}=${c.series}`).sort(), expected.sort());
    const svg = await svgSummary(cp.page);
    for (const n of NAMES) assert.equal(svg[`line:${n}`].lines, 2, `two lines in line:${n}`);
    assert.equal(svg.parallel.lines, 2);
    assert.equal(svg.scatter.points, 2);

    // What the user reads: the axis titles, the parallel axes, the table's columns and cells.
    const texts = await cp.page.evaluate(() => {
      const titles = (id: string) => [...document.querySelectorAll(`[data-testid="chart:${id}"] g.role-axis-title text`)].map((t) => t.textContent);
      const labels = (id: string) => [...document.querySelectorAll(`[data-testid="chart:${id}"] g.role-axis-label text`)].map((t) => t.textContent);
      return {
        line: titles('line:constructor'),
        scatter: titles('scatter'),
        parallel: labels('parallel'),
        head: [...document.querySelectorAll('[data-testid="runs-table"] th')].map((t) => t.textContent),
        protoCell: document.querySelector('[data-testid="cell:20261125-100000-bbbb:metric:__proto__"]')?.textContent,
      };
    });
    assert.deepEqual(texts.line, ['step', 'constructor']);
    assert.deepEqual(texts.scatter, ['constructor', 'toString (final)']);
    assert.deepEqual(texts.parallel, [...NAMES, ...NAMES.map((n) => `${n} (metric)`)]);
    assert.deepEqual(texts.head, ['Run', 'Status', 'Duration', 'Commit', ...NAMES, ...NAMES.map((n) => `${n} ↑`)]);
    assert.equal(texts.protoCell, '★ 6');

    const before = (await cp.posted()).length;
    await sendJson(cp, { type: 'append', version: 1, runId: IDS[0], metric: '__proto__', points: { steps: [3], times: [3], values: [9] }, final: 9 });
    const appended = await cp.waitForPosted<Appended>((m) => m.type === 'appended', before);
    assert.deepEqual(appended, { type: 'appended', version: 1, runId: IDS[0], metric: '__proto__', points: 4, errors: [] });
    assert.equal(await cp.page.evaluate(() => document.querySelector('[data-testid="cell:20261125-100000-aaaa:metric:__proto__"]')?.textContent), '9');
    assert.deepEqual(cp.consoleErrors, []);
  });
});
