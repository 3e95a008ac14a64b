import * as assert from 'node:assert/strict';
import { MetricPoint, TrackingData, emptyTracking } from '../../src/model/runs/tracking';
import { parseFromWebview, parseWebviewState } from '../../src/views/protocol/compare';
import {
  appendedPoints,
  buildCompareState,
  csvField,
  lttb,
  pickBestRun,
  pointsPerSeries,
  resolveGoal,
  metricCell,
  sortRows,
  tableToCsv,
} from '../../src/views/protocol/compareData';
import { completedRunRecord } from '../harness/runFixtures';

const record = completedRunRecord;

function tracking(metrics: Record<string, number[]>, params: Record<string, unknown> = {}, goals: TrackingData['goals'] = {}): TrackingData {
  const t = emptyTracking();
  for (const [name, values] of Object.entries(metrics)) t.metrics[name] = values.map((value, step): MetricPoint => ({ step, value, t: 1000 + step }));
  t.params = params;
  t.goals = goals;
  return t;
}

const extra = { folder: 'file:///ws', folderName: 'ws' };

describe('compare data (pure)', () => {
  describe('LTTB downsampling', () => {
    // A noisy series with one spike up and one down in the middle, where LTTB's triangles alone may miss them.
    const n = 10_000;
    const points = Array.from({ length: n }, (_, i) => ({ x: i, y: Math.sin(i / 50) + ((i * 7919) % 13) / 100 }));
    points[4321].y = 50;
    points[6789].y = -40;

    it('keeps at most max points, in order, with both endpoints', () => {
      const out = lttb(points, 500);
      assert.ok(out.length <= 500, `${out.length} points`);
      assert.ok(out.length >= 450, `${out.length} points`);
      assert.equal(out[0], points[0]);
      assert.equal(out[out.length - 1], points[n - 1]);
      for (let i = 1; i < out.length; i++) assert.ok(out[i].x > out[i - 1].x, 'strictly increasing x');
    });

    it('keeps the global minimum and maximum', () => {
      for (const max of [4, 10, 100, 999]) {
        const out = lttb(points, max);
        assert.ok(out.length <= Math.max(4, max), `max ${max}: ${out.length}`);
        assert.ok(out.includes(points[4321]), `max ${max}: the maximum is kept`);
        assert.ok(out.includes(points[6789]), `max ${max}: the minimum is kept`);
      }
      // Extremes at the ends too.
      const edge = [{ x: 0, y: -9 }, ...Array.from({ length: 998 }, (_, i) => ({ x: i + 1, y: Math.cos(i) })), { x: 999, y: 9 }];
      const out = lttb(edge, 20);
      assert.equal(out[0].y, -9);
      assert.equal(out[out.length - 1].y, 9);
    });

    it('returns short series unchanged (a copy)', () => {
      const few = points.slice(0, 30);
      const out = lttb(few, 100);
      assert.deepEqual(out, few);
      assert.notEqual(out, few);
    });

    it('shares a point budget among series', () => {
      assert.equal(pointsPerSeries(1), 1000);
      assert.equal(pointsPerSeries(200), 300);
      assert.equal(pointsPerSeries(10_000), 100);
    });

    it('downsamples each series of the state, keeping its extremes', () => {
      const values = points.map((p) => p.y);
      const state = buildCompareState([{ run: record('r1'), tracking: tracking({ loss: values }) }, { run: record('r2'), tracking: tracking({ loss: [3, 2, 1] }) }], extra);
      const big = state.series.find((s) => s.runId === 'r1')!;
      assert.equal(big.total, n);
      assert.ok(big.values.length <= state.maxPointsPerSeries);
      assert.equal(Math.max(...big.values), 50);
      assert.equal(Math.min(...big.values), -40);
      assert.equal(big.steps[0], 0);
      assert.equal(big.steps[big.steps.length - 1], n - 1);
      assert.equal(big.times[0], 0, 'wall time counts from the first event');
      assert.deepEqual(state.series.find((s) => s.runId === 'r2')!.values, [3, 2, 1]);
    });
  });

  describe('goals and best values', () => {
    it('takes the goal from tracking, then the setting, then the name, else max', () => {
      assert.deepEqual(resolveGoal('accuracy', [{}, { accuracy: 'min' }], { accuracy: 'max' }), { goal: 'min', source: 'tracking' });
      assert.deepEqual(resolveGoal('accuracy', [{}], { accuracy: 'min' }), { goal: 'min', source: 'setting' });
      assert.deepEqual(resolveGoal('val_loss', [{}], { other: 'max' }), { goal: 'min', source: 'name' });
      assert.deepEqual(resolveGoal('RMSE', [], {}), { goal: 'min', source: 'name' });
      assert.deepEqual(resolveGoal('test_error', [], {}), { goal: 'min', source: 'name' });
      assert.deepEqual(resolveGoal('f1', [], {}), { goal: 'max', source: 'default' });
      assert.deepEqual(resolveGoal('loss', [], { loss: 'max' }), { goal: 'max', source: 'setting' });
      assert.deepEqual(resolveGoal('f1', [], { f1: 'sideways' }), { goal: 'max', source: 'default' }, 'an invalid setting value is ignored');
      assert.deepEqual(resolveGoal('__proto__', [{}], {}), { goal: 'max', source: 'default' });
    });

    it('marks the best final value of each metric by its goal (ties: every run with it)', () => {
      const state = buildCompareState(
        [
          { run: record('r1'), tracking: tracking({ loss: [1, 0.5], acc: [0.7], latency: [30] }, {}, { latency: 'min' }) },
          { run: record('r2'), tracking: tracking({ loss: [1, 0.2], acc: [0.9], latency: [20] }) },
          { run: record('r3'), tracking: tracking({ loss: [1, 0.3], acc: [0.9], latency: [25] }) },
        ],
        { ...extra, settingGoals: { acc: 'max' } },
      );
      const m = Object.fromEntries(state.metrics.map((x) => [x.name, x]));
      assert.deepEqual(m.loss.best, { value: 0.2, runIds: ['r2'] });
      assert.equal(m.loss.goalSource, 'name');
      assert.deepEqual(m.acc.best, { value: 0.9, runIds: ['r2', 'r3'] });
      assert.equal(m.acc.goalSource, 'setting');
      assert.deepEqual(m.latency, { name: 'latency', goal: 'min', goalSource: 'tracking', best: { value: 20, runIds: ['r2'] } });
      const best = (runId: string, key: string) => state.table.rows.find((r) => r.runId === runId)!.cells[key].best === true;
      assert.ok(best('r2', 'metric:loss') && !best('r1', 'metric:loss') && !best('r3', 'metric:loss'));
      assert.ok(best('r2', 'metric:acc') && best('r3', 'metric:acc') && !best('r1', 'metric:acc'));
      assert.equal(state.table.columns.find((c) => c.key === 'metric:loss')!.goal, 'min');
    });

    it('ignores non-finite finals for the best value and shows them as text', () => {
      const state = buildCompareState([{ run: record('r1'), tracking: tracking({ loss: [NaN] }) }, { run: record('r2'), tracking: tracking({ loss: [2] }) }], extra);
      assert.deepEqual(state.metrics[0].best, { value: 2, runIds: ['r2'] });
      assert.equal(state.table.rows[0].cells['metric:loss'].text, 'NaN');
      assert.equal(state.runs[0].finals.loss, 'NaN');
    });

    it('picks the best other ended run of the same script for "compare with best"', () => {
      const me = record('me', { metrics: { acc: 0.5 } });
      const others = [
        record('a', { metrics: { acc: 0.8 } }),
        record('b', { metrics: { acc: 0.95 }, script: 'other.py' }),
        record('c', { metrics: { acc: 0.99 }, status: 'Running' }),
        record('d', { metrics: { acc: 0.9 } }),
        record('e', { metrics: { loss: 0.1 } }),
        me,
      ];
      assert.equal(pickBestRun(me, others, 'acc', 'max')?.id, 'd');
      assert.equal(pickBestRun(me, others, 'acc', 'min')?.id, 'a');
      assert.equal(pickBestRun(me, others, 'f1', 'max'), undefined);
    });
  });

  describe('table', () => {
    const state = buildCompareState(
      [
        { run: record('20261125-100000-aaaa', { params: { lr: 0.1, opt: 'adam' } }), tracking: tracking({ loss: [0.5] }, { lr: 0.1, layers: 3 }) },
        { run: record('20261125-100000-bbbb', { params: { lr: 0.01, opt: 'adam' }, status: 'Failed' }), tracking: tracking({ loss: [0.4] }, { lr: 0.01, layers: 3 }) },
        { run: record('20261125-100000-cccc', { params: { lr: -1, opt: 'adam' }, name: 'baseline' }), tracking: tracking({ loss: [0.6] }) },
      ],
      extra,
    );
    const col = (key: string) => state.table.columns.find((c) => c.key === key)!;

    it('flags the columns where the runs differ, and only those', () => {
      assert.equal(col('param:lr').differs, true);
      assert.equal(col('param:opt').differs, false);
      assert.equal(col('param:layers').differs, true, 'a param one run lacks differs');
      assert.equal(col('status').differs, true);
      assert.equal(col('commit').differs, false);
      assert.equal(col('metric:loss').differs, true);
      assert.equal(col('run').differs, false);
      assert.equal(col('duration').differs, false, 'durations always differ: never highlighted');
      assert.equal(col('param:lr').numeric, true);
      assert.equal(col('param:opt').numeric, false);
    });

    it('labels runs by name, else the end of the id', () => {
      assert.deepEqual(state.runs.map((r) => r.label), ['aaaa', 'bbbb', 'baseline']);
      const clash = buildCompareState([{ run: record('x-1234'), tracking: tracking({}) }, { run: record('y-1234'), tracking: tracking({}) }], extra);
      assert.deepEqual(clash.runs.map((r) => r.label), ['1234 (x-1234)', '1234 (y-1234)']);
    });

    it('sorts numerically, text naturally, empty cells last', () => {
      assert.deepEqual(sortRows(state.table, 'param:lr', false).map((r) => r.runId.slice(-4)), ['cccc', 'bbbb', 'aaaa']);
      assert.deepEqual(sortRows(state.table, 'param:lr', true).map((r) => r.runId.slice(-4)), ['aaaa', 'bbbb', 'cccc']);
      assert.deepEqual(sortRows(state.table, 'param:layers', true).map((r) => r.runId.slice(-4)), ['aaaa', 'bbbb', 'cccc']);
      assert.deepEqual(sortRows(state.table, 'metric:loss', false).map((r) => r.runId.slice(-4)), ['bbbb', 'aaaa', 'cccc']);
    });

    it('exports CSV with a header, full precision and the chosen order', () => {
      const csv = tableToCsv(state.table, { key: 'metric:loss', descending: false });
      const lines = csv.split('\r\n');
      assert.equal(lines[0], 'run id,run,status,duration (s),commit,lr,opt,layers,loss');
      assert.equal(lines[1], '20261125-100000-bbbb,bbbb,Failed,60,abcdef1,0.01,adam,3,0.4');
      assert.equal(lines[3], '20261125-100000-cccc,baseline,Completed,60,abcdef1,-1,adam,,0.6', 'a negative number is not taken for a formula');
      assert.equal(lines[4], '');
      assert.equal(lines.length, 5);
    });
  });

  describe('one order and one formatter for the table and its CSV', () => {
    // Finals -3, 5, 10 and -Infinity (a diverged run): JSON cannot carry -Infinity, so it travels as text.
    const finals = [-3, 5, 10, -Infinity];
    const ids = ['r-minus3', 'r-5', 'r-10', 'r-neginf'];
    const state = buildCompareState(
      finals.map((v, i) => ({ run: record(ids[i]), tracking: tracking({ score: [0, v] }) })),
      extra,
    );
    const csvRows = (csv: string) => csv.split('\r\n').slice(1, -1).map((l) => l.split(','));

    it('sorts -Infinity below every number, in the table and in the CSV alike', () => {
      const up = sortRows(state.table, 'metric:score', false);
      assert.deepEqual(up.map((r) => r.runId), ['r-neginf', 'r-minus3', 'r-5', 'r-10']);
      assert.deepEqual(up.map((r) => r.cells['metric:score'].text), ['-Infinity', '-3', '5', '10']);
      const down = sortRows(state.table, 'metric:score', true);
      assert.deepEqual(down.map((r) => r.runId), ['r-10', 'r-5', 'r-minus3', 'r-neginf']);

      for (const [descending, rows] of [[false, up], [true, down]] as const) {
        const csv = csvRows(tableToCsv(state.table, { key: 'metric:score', descending }));
        assert.deepEqual(csv.map((f) => f[0]), rows.map((r) => r.runId), 'the CSV has the table order');
        // The same text as the table (full precision), with the formula guard on what a spreadsheet would run.
        assert.deepEqual(csv.map((f) => f[f.length - 1]), rows.map((r) => (r.cells['metric:score'].text === '-Infinity' ? "'-Infinity" : r.cells['metric:score'].text)));
      }
    });

    it('puts NaN and text after the numbers and empty cells last, either way', () => {
      const mixed = buildCompareState(
        [
          { run: record('a'), tracking: tracking({ m: [Infinity] }) },
          { run: record('b'), tracking: tracking({ m: [NaN] }) },
          { run: record('c'), tracking: tracking({}) },
          { run: record('d'), tracking: tracking({ m: [1] }) },
        ],
        extra,
      );
      assert.deepEqual(sortRows(mixed.table, 'metric:m', false).map((r) => r.runId), ['d', 'a', 'b', 'c']);
      assert.deepEqual(sortRows(mixed.table, 'metric:m', true).map((r) => r.runId), ['a', 'd', 'b', 'c']);
      assert.deepEqual(csvRows(tableToCsv(mixed.table, { key: 'metric:m', descending: true })).map((f) => f[f.length - 1]), ['Infinity', '1', 'NaN', '']);
    });

    it('shows a live final the way the table does (metricCell)', () => {
      assert.deepEqual(metricCell('-Infinity'), { text: '-Infinity', value: '-Infinity' });
      assert.deepEqual(metricCell(1 / 3), { text: '0.333333', value: 1 / 3 });
      assert.equal(state.table.rows[0].cells['metric:score'].text, metricCell(-3).text);
    });
  });

  describe('CSV escaping', () => {
    it('quotes commas, quotes, newlines and edge spaces, doubling quotes', () => {
      assert.equal(csvField('plain'), 'plain');
      assert.equal(csvField('a,b'), '"a,b"');
      assert.equal(csvField('say "hi"'), '"say ""hi"""');
      assert.equal(csvField('two\nlines'), '"two\nlines"');
      assert.equal(csvField('cr\rhere'), '"cr\rhere"');
      assert.equal(csvField(' padded '), '" padded "');
      assert.equal(csvField(''), '');
    });

    it('defuses text a spreadsheet would run as a formula', () => {
      assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
      assert.equal(csvField('+1'), "'+1");
      assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
      assert.equal(csvField('-2', true), '-2', 'numbers stay numbers');
    });

    it('escapes param values and names in the exported table', () => {
      const state = buildCompareState(
        [
          { run: record('r1'), tracking: tracking({}, { 'note, "x"': 'a,b', cmd: '=1+1' }) },
          { run: record('r2'), tracking: tracking({}, { 'note, "x"': 'line1\nline2', cmd: 'ok' }) },
        ],
        extra,
      );
      const csv = tableToCsv(state.table);
      assert.ok(csv.startsWith('run id,run,status,duration (s),commit,"note, ""x""",cmd\r\n'), csv);
      assert.ok(csv.includes('r1,r1,Completed,60,abcdef1,"a,b",\'=1+1\r\n'), csv);
      assert.ok(csv.includes('r2,r2,Completed,60,abcdef1,"line1\nline2",ok\r\n'), csv);
    });
  });

  describe('live appends and the protocol', () => {
    it('gives the points after those already sent, continuing the index when there are no steps', () => {
      const pts: MetricPoint[] = [1, 2, 3, NaN, 5].map((value, i) => ({ step: null, value, t: 100 + i }));
      assert.deepEqual(appendedPoints(pts, 2, 100), { steps: [2, 4], times: [2, 4], values: [3, 5] });
      const stepped: MetricPoint[] = [{ step: 10, value: 1, t: 100 }, { step: 20, value: 2, t: 101.5 }];
      assert.deepEqual(appendedPoints(stepped, 1, 100), { steps: [20], times: [1.5], values: [2] });
    });

    it('accepts only well-formed intents, copying known fields', () => {
      assert.deepEqual(parseFromWebview({ type: 'ready', extra: 1 }), { type: 'ready' });
      assert.deepEqual(parseFromWebview({ type: 'exportCsv', sort: { key: 'metric:loss', descending: true } }), { type: 'exportCsv', sort: { key: 'metric:loss', descending: true } });
      assert.equal(parseFromWebview({ type: 'exportCsv', sort: { key: 3 } }), undefined);
      assert.equal(parseFromWebview({ type: 'openRun', id: '../x' }), undefined);
      assert.equal(parseFromWebview({ type: 'exportChart', chartId: 'line:loss', format: 'svg', data: '<script>alert(1)</script>' }), undefined);
      assert.equal(parseFromWebview({ type: 'exportChart', chartId: 'line:loss', format: 'png', data: 'data:text/html,x' }), undefined);
      assert.equal(parseFromWebview({ type: 'exportChart', chartId: '../../etc', format: 'svg', data: '<svg></svg>' }), undefined);
      assert.deepEqual(parseFromWebview({ type: 'exportChart', chartId: 'line:loss', format: 'svg', data: '<svg xmlns="x"></svg>', requestId: 2 }), { type: 'exportChart', chartId: 'line:loss', format: 'svg', data: '<svg xmlns="x"></svg>', requestId: 2 });
      assert.equal(parseFromWebview({ type: 'setView', view: { metrics: ['a'], params: [], xAxis: 'step', logScale: false, smoothing: 2 } }), undefined);
      assert.ok(parseFromWebview({ type: 'setView', view: { metrics: ['a'], params: [], xAxis: 'time', logScale: true, smoothing: 0.5 } }));
      assert.equal(parseFromWebview({ type: 'runShell', command: 'rm -rf /' }), undefined);
      assert.equal(parseFromWebview(null), undefined);
      assert.deepEqual(parseWebviewState({ folder: 'file:///ws', runIds: ['a', 'b'] }), { folder: 'file:///ws', runIds: ['a', 'b'] });
      assert.equal(parseWebviewState({ folder: 'file:///ws', runIds: ['../a'] }), undefined);
    });
  });
});
