/**
 * Compare Runs at scale: 100 runs × 2 metrics × 10,000 points each (2,000,000 points), plus 4 params, rendered
 * by the built webview bundle (dist/webviews/compare.js) in real Chromium under the panel's strict CSP (the page
 * of test/browser/comparePage.ts). Measures (a) building the state in Node (reading nothing: tracking data is
 * generated in memory; this is downsampling, goals, table), its JSON size; (b) in the page, from handing it the
 * state JSON (parse + postMessage, as VS Code delivers it) to the webview's `rendered` message, i.e. every chart
 * (2 line charts of 100 series, 2 bar charts, parallel coordinates, scatter) and the table drawn as SVG; a fresh
 * page each time, one warm-up then 5 measured; (c) one live `append` of 10 points to a line chart, state to ack.
 * Target: (b) ≤ 1,500 ms. (`performance` is the global one: page functions are serialised, so no imports there.)
 */
import type { RunRecord } from '../src/model/runs/run';
import { MetricPoint, TrackingData, emptyTracking } from '../src/model/runs/tracking';
import type { CompareState } from '../src/views/protocol/compare';
import { buildCompareState } from '../src/views/protocol/compareData';
import { launchChromium, openComparePage, svgSummary } from '../test/browser/comparePage';
import { loadAverage } from './lib/machine';
import { fmtInt, median, percentile } from './lib/stats';

const RUNS = Number(process.env.MLW_BENCH_RUNS ?? 100);
const POINTS = Number(process.env.MLW_BENCH_POINTS ?? 10_000);
const ROUNDS = 5;
const TARGET_MS = 1500;

function fixture(): { run: RunRecord; tracking: TrackingData }[] {
  const out: { run: RunRecord; tracking: TrackingData }[] = [];
  for (let r = 0; r < RUNS; r++) {
    const id = `20261125-1000${String(r).padStart(2, '0')}-${(0x1000 + r).toString(16)}`;
    const lr = [0.1, 0.03, 0.01, 0.003, 0.001][r % 5];
    const t = emptyTracking();
    const loss: MetricPoint[] = [];
    const acc: MetricPoint[] = [];
    let seed = r + 1;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.05;
    for (let i = 0; i < POINTS; i++) {
      loss.push({ step: i, value: Math.exp(-i * lr * 0.01) + 0.05 + noise(), t: 1_764_064_800 + i * 0.01 });
      acc.push({ step: i, value: 1 - Math.exp(-i * lr * 0.01) * 0.9 + noise(), t: 1_764_064_800 + i * 0.01 });
    }
    t.metrics = { loss, accuracy: acc };
    t.goals = { accuracy: 'max' };
    t.params = { lr, layers: 2 + (r % 4), optimizer: r % 2 ? 'adam' : 'sgd', batch: 32 * (1 + (r % 3)) };
    out.push({
      run: {
        schemaVersion: 1, id, script: 'train.py', args: [], status: 'Completed',
        createdAt: '2026-11-25T10:00:00.000Z', startedAt: '2026-11-25T10:00:01.000Z', endedAt: '2026-11-25T10:02:41.000Z',
        git: { commit: 'abcdef1234567890', branch: 'main', dirty: r % 7 === 0 },
      },
      tracking: t,
    });
  }
  return out;
}

async function main(): Promise<void> {
  const inputs = fixture();
  const builds: number[] = [];
  let state: CompareState | undefined;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    state = buildCompareState(inputs, { folder: 'file:///workspace', folderName: 'workspace' });
    builds.push(performance.now() - t0);
  }
  const s = state as CompareState;
  const json = JSON.stringify({ type: 'state', version: 1, state: s });
  const kept = s.series.reduce((n, x) => n + x.values.length, 0);
  console.log(`  state: ${RUNS} runs × 2 metrics × ${fmtInt(POINTS)} points = ${fmtInt(RUNS * 2 * POINTS)} points, downsampled to ${fmtInt(kept)} (${s.maxPointsPerSeries} per series, LTTB + min/max); build median ${median(builds).toFixed(0)} ms; JSON ${(json.length / 1e6).toFixed(2)} MB`);

  const browser = await launchChromium();
  const totals: number[] = [];
  const charts: number[] = [];
  const appends: number[] = [];
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      const cp = await openComparePage(browser, { runIds: s.runs.map((r) => r.id) });
      await cp.waitForPosted((m) => m.type === 'ready');
      await cp.page.evaluate((text) => ((window as unknown as { __pending: string }).__pending = text), json);
      const before = (await cp.posted()).length;
      // Timed in the page: parse the JSON VS Code would deliver, post it, until the webview says it rendered.
      await cp.page.evaluate(() => {
        const w = window as unknown as { __pending: string; __t0: number };
        w.__t0 = performance.now();
        window.postMessage(JSON.parse(w.__pending), '*');
      });
      const rendered = await cp.waitForPosted<{ type: string; ms: number; errors?: string[]; charts: { id: string; series: number }[] }>((m) => m.type === 'rendered', before, 60_000);
      const total = await cp.page.evaluate((index) => {
        const w = window as unknown as { __postedAt: number[]; __t0: number; __posted: { type: string }[] };
        const i = w.__posted.findIndex((m, k) => k >= index && m.type === 'rendered');
        return w.__postedAt[i] - w.__t0;
      }, before);
      if (rendered.errors?.length) throw new Error(`render errors: ${rendered.errors.join('; ')}`);
      const svg = await svgSummary(cp.page);
      if (svg['line:loss'].lines !== RUNS || svg['line:accuracy'].lines !== RUNS || svg.parallel.lines !== RUNS) throw new Error(`expected ${RUNS} series per chart, got ${JSON.stringify(svg)}`);
      if ((await cp.violations()).length || cp.blocked.length) throw new Error('CSP violations or network requests');

      // One live append of 10 points to the loss chart: post to ack.
      const at = (await cp.posted()).length;
      const appendMs = await cp.page.evaluate((runId) => {
        const w = window as unknown as { __t1: number };
        w.__t1 = performance.now();
        window.postMessage({ type: 'append', version: 1, runId, metric: 'loss', points: { steps: [...Array(10).keys()].map((k) => 20_000 + k), times: [...Array(10).keys()].map((k) => 300 + k), values: Array(10).fill(0.05) }, final: 0.05 }, '*');
        return 0;
      }, s.runs[0].id);
      void appendMs;
      await cp.waitForPosted((m) => m.type === 'appended', at, 30_000);
      const appendTook = await cp.page.evaluate((index) => {
        const w = window as unknown as { __postedAt: number[]; __t1: number; __posted: { type: string }[] };
        const i = w.__posted.findIndex((m, k) => k >= index && m.type === 'appended');
        return w.__postedAt[i] - w.__t1;
      }, at);
      await cp.page.context().close();
      const label = round === 0 ? 'warm-up' : `round ${round}`;
      console.log(`  ${label}: state → all charts rendered ${total.toFixed(0)} ms (charts alone ${rendered.ms} ms, ${rendered.charts.length} charts); append of 10 points ${appendTook.toFixed(0)} ms`);
      if (round === 0) continue;
      totals.push(total);
      charts.push(rendered.ms);
      appends.push(appendTook);
    }
  } finally {
    await browser.close();
  }
  console.log(`compare-render: ${RUNS} runs × 2 metrics × ${fmtInt(POINTS)} points: median ${median(totals).toFixed(0)} ms (p90 ${percentile(totals, 90).toFixed(0)}) from state to every chart drawn (target ≤ ${fmtInt(TARGET_MS)} ms); charts ${median(charts).toFixed(0)} ms; append ${median(appends).toFixed(0)} ms; state build ${median(builds).toFixed(0)} ms in Node; load average ${loadAverage()}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
