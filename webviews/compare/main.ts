// Browser side of the Compare Runs webview. Renders the state the extension pushes (see
// src/views/protocol/compare.ts), adds live points from `append` messages through vega changesets, and sends
// intents back; it never reads files or decides anything itself. Controls come from ../shared/toolkit only.
import './styles.css';
import type {
  CompareRun,
  CompareState,
  CompareView,
  CompareWebviewState,
  ExportFormat,
  FromWebview,
  MetricInfo,
  RenderedChart,
  SeriesPoints,
  TableColumn,
  ToWebview,
} from '../../src/views/protocol/compare';
import { fromDisplayNumber } from '../../src/views/protocol/common';
import { metricCell, sortRows } from '../../src/views/protocol/compareData';
import { bootstrap } from '../shared/bootstrap';
import { Child, byTestId, h, link } from '../shared/dom';
import { tkButton, tkCheckbox, tkDropdown, tkRadioGroup, tkSlider, tkTag, toolkitMode } from '../shared/toolkit';
import { TopLevelSpec, onThemeChange, themeColor, vegaText } from '../shared/vega';
import { View, changeset, renderWithData } from '../shared/vegaView';
import { vscodeApi } from '../shared/host';

// Appends are applied in order, after any render in progress.
let queue: Promise<unknown> = Promise.resolve();
function enqueue(task: () => Promise<void>): void {
  queue = queue.then(task).catch((err) => showError(String((err as Error).message ?? err)));
}

const { app, send, takeViolations, showError } = bootstrap<ToWebview, FromWebview>('compare', () => ({
  state: (msg) =>
    enqueue(async () => {
      current = { version: msg.version, state: msg.state };
      series = new Map(msg.state.series.map((s) => [key(s.runId, s.metric), { steps: s.steps.slice(), times: s.times.slice(), values: s.values.slice() }]));
      vscodeApi.setState({ folder: msg.state.folder, runIds: msg.state.runs.map((r) => r.id), view: view ?? saved?.view } satisfies CompareWebviewState);
      await render();
    }),
  append: (msg) => enqueue(() => append(msg)),
  requestExport: (msg) => enqueue(() => exportChart(msg.chartId, msg.format, msg.requestId)),
}));

// What the serializer gets back after a reload: enough to reopen the same runs.
const saved = vscodeApi.getState() as Partial<CompareWebviewState> | undefined;
const initialIds = (app.dataset.runIds ?? '').split(',').filter(Boolean);
if (initialIds.length) vscodeApi.setState({ folder: decodeURIComponent(app.dataset.folder ?? ''), runIds: initialIds, view: saved?.view } satisfies CompareWebviewState);

interface Chart {
  id: string;
  kind: RenderedChart['kind'];
  metric?: string;
  view: View;
}

let current: { version: number; state: CompareState } | undefined;
let view: CompareView | undefined;
/** Points per run id + NUL + metric: the state's series, plus what appends added. */
let series = new Map<string, SeriesPoints>();
let charts = new Map<string, Chart>();
let renderGeneration = 0;
let sort: { key: string; descending: boolean } | undefined;

// ---------- helpers ----------

const key = (runId: string, metric: string) => `${runId}\0${metric}`;

/** Run colours: the theme's chart colours first, then fixed ones readable on light and dark backgrounds. */
function palette(): string[] {
  const theme = ['blue', 'orange', 'green', 'red', 'purple', 'yellow'].map((c, i) => themeColor(`charts-${c}`, ['#3794ff', '#d18616', '#89d185', '#f14c4c', '#b180d7', '#cca700'][i]));
  return [...theme, '#17becf', '#e377c2', '#8c6d31', '#7f7f7f', '#bcbd22', '#9467bd', '#2ca02c', '#ff7f0e'];
}

function colorScale(state: CompareState): { domain: string[]; range: string[] } {
  const p = palette();
  return { domain: state.runs.map((r) => r.label), range: state.runs.map((_, i) => p[i % p.length]) };
}

function chartConfig(): Record<string, unknown> {
  const fg = themeColor('foreground', '#cccccc');
  const muted = themeColor('descriptionForeground', '#999999');
  const grid = themeColor('editorWidget-border', themeColor('widget-border', '#80808040'));
  const font = themeColor('font-family', 'sans-serif');
  return {
    background: 'transparent',
    font,
    view: { stroke: null },
    axis: { labelColor: muted, titleColor: fg, gridColor: grid, gridOpacity: 0.5, domainColor: muted, tickColor: muted, labelFont: font, titleFont: font },
    legend: { labelColor: fg, titleColor: fg, labelFont: font, titleFont: font },
    text: { color: fg },
  };
}

function chartWidth(): number {
  const w = app.clientWidth || document.documentElement.clientWidth || 800;
  return Math.max(260, Math.min(560, Math.floor((w - 80) / (w > 1100 ? 2 : 1))));
}

function saveView(): void {
  if (!current || !view) return;
  vscodeApi.setState({ folder: current.state.folder, runIds: current.state.runs.map((r) => r.id), view } satisfies CompareWebviewState);
  send({ type: 'setView', view });
}

// ---------- chart data ----------

interface LineRow {
  run: string;
  x: number;
  y: number;
}

/** EMA (debiased, as TensorBoard's smoothing) state of one run in one chart, so appends continue it. */
interface Ema {
  last: number;
  n: number;
}

const emaState = new Map<string, Ema>();

function lineRows(run: CompareRun, metric: string, points: SeriesPoints, from: number, v: CompareView): LineRow[] {
  const k = key(run.id, metric);
  const w = v.smoothing;
  let ema = from === 0 ? { last: 0, n: 0 } : emaState.get(k) ?? { last: 0, n: 0 };
  const rows: LineRow[] = [];
  const xs = v.xAxis === 'step' ? points.steps : points.times;
  for (let i = from; i < points.values.length; i++) {
    const raw = points.values[i];
    let y = raw;
    if (w > 0) {
      ema = { last: ema.last * w + (1 - w) * raw, n: ema.n + 1 };
      y = ema.last / (1 - Math.pow(w, ema.n));
    }
    if (v.logScale && !(y > 0)) continue;
    rows.push({ run: run.label, x: xs[i], y });
  }
  emaState.set(k, ema);
  return rows;
}

function allLineRows(state: CompareState, metric: string, v: CompareView): LineRow[] {
  const rows: LineRow[] = [];
  for (const run of state.runs) {
    const points = series.get(key(run.id, metric));
    if (points) for (const r of lineRows(run, metric, points, 0, v)) rows.push(r);
  }
  return rows;
}

function lineSpec(state: CompareState, m: MetricInfo, v: CompareView): TopLevelSpec {
  const colors = colorScale(state);
  return {
    width: chartWidth(),
    height: 220,
    config: chartConfig(),
    data: { name: 'series' },
    mark: { type: 'line', strokeWidth: 1.5, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: v.xAxis === 'step' ? 'step' : 'seconds since the run started', scale: { zero: false, nice: false } },
      y: { field: 'y', type: 'quantitative', title: vegaText(`${m.name}${v.smoothing > 0 ? ` (EMA ${v.smoothing})` : ''}`), scale: { type: v.logScale ? 'log' : 'linear', zero: false } },
      color: { field: 'run', type: 'nominal', scale: colors, legend: state.runs.length <= 12 ? { title: null, orient: 'bottom', columns: 4 } : null },
    },
  } as TopLevelSpec;
}

interface BarRow {
  run: string;
  /** The run's place in the compared set: bars are sorted by it (a sort array of labels would be a Vega literal). */
  order: number;
  value: number;
  best: boolean;
}

function barRows(state: CompareState, m: MetricInfo): BarRow[] {
  return state.runs
    .map((r, order) => ({ r, order }))
    .filter(({ r }) => Object.hasOwn(r.finals, m.name) && Number.isFinite(fromDisplayNumber(r.finals[m.name])))
    .map(({ r, order }) => ({ run: r.label, order, value: fromDisplayNumber(r.finals[m.name]), best: !!m.best?.runIds.includes(r.id) }));
}

function barSpec(state: CompareState, m: MetricInfo): TopLevelSpec {
  const colors = colorScale(state);
  const x = { field: 'run', type: 'nominal', sort: { field: 'order', op: 'min' }, title: null, axis: { labelAngle: state.runs.length > 6 ? -45 : 0, labelLimit: 120 } };
  return {
    width: chartWidth(),
    height: 180,
    config: chartConfig(),
    data: { name: 'bars' },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', title: `${m.name} (final, ${m.goal === 'max' ? 'higher' : 'lower'} is better)` },
          color: { field: 'run', type: 'nominal', scale: colors, legend: null },
          tooltip: [
            { field: 'run', type: 'nominal' },
            { field: 'value', type: 'quantitative', title: m.name, format: '.6~g' },
          ],
        },
      },
      {
        transform: [{ filter: 'datum.best' }],
        mark: { type: 'text', text: '★ best', dy: -8, fontWeight: 'bold', color: themeColor('foreground', '#cccccc') },
        encoding: { x, y: { field: 'value', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

/** One row per run: d0…dn are the chosen params and metrics; text params become their rank among the values. */
function parallelData(state: CompareState, v: CompareView): { rows: Record<string, unknown>[]; dims: { key: string; name: string; pos: number }[] } {
  const dims: { key: string; name: string; pos: number; get: (r: CompareRun) => number | undefined }[] = [];
  const names = new Set<string>();
  const label = (n: string, kind: string) => (names.has(n) ? `${n} (${kind})` : n);
  for (const p of v.params) {
    const numeric = state.runs.every((r) => !Object.hasOwn(r.params, p) || Object.hasOwn(r.paramNumbers, p));
    const values = [...new Set(state.runs.filter((r) => Object.hasOwn(r.params, p)).map((r) => r.params[p]))].sort();
    const name = label(p, 'param');
    names.add(name);
    dims.push({
      key: `d${dims.length}`,
      name,
      pos: dims.length,
      get: (r) => (!Object.hasOwn(r.params, p) ? undefined : numeric ? r.paramNumbers[p] : values.indexOf(r.params[p])),
    });
  }
  for (const m of v.metrics) {
    const name = label(m, 'metric');
    names.add(name);
    dims.push({ key: `d${dims.length}`, name, pos: dims.length, get: (r) => (Object.hasOwn(r.finals, m) ? fromDisplayNumber(r.finals[m]) : undefined) });
  }
  const rows = state.runs.map((r) => {
    const row: Record<string, unknown> = { run: r.label };
    for (const d of dims) {
      const value = d.get(r);
      row[d.key] = value !== undefined && Number.isFinite(value) ? value : null;
    }
    return row;
  });
  return { rows, dims: dims.map(({ key: k, name, pos }) => ({ key: k, name, pos })) };
}

function parallelSpec(state: CompareState, dims: { key: string; name: string; pos: number }[]): TopLevelSpec {
  const colors = colorScale(state);
  // Sorted by position, not by an array of the names: names are the run's, and Vega reads some as identifiers.
  const x = { field: 'name', type: 'nominal', sort: { field: 'pos', op: 'min' }, title: null };
  return {
    width: Math.max(chartWidth(), Math.min(1100, dims.length * 110)),
    height: 240,
    config: { ...chartConfig(), axisX: { domain: false, labelAngle: 0, tickColor: themeColor('descriptionForeground', '#999'), grid: false, orient: 'top' } },
    data: { name: 'runs' },
    transform: [
      { window: [{ op: 'count', as: 'index' }] },
      { fold: dims.map((d) => d.key) },
      { filter: 'isValid(datum.value) && isFinite(datum.value)' },
      { joinaggregate: [{ op: 'min', field: 'value', as: 'min' }, { op: 'max', field: 'value', as: 'max' }], groupby: ['key'] },
      { calculate: 'datum.max === datum.min ? 0.5 : (datum.value - datum.min) / (datum.max - datum.min)', as: 'norm' },
      { lookup: 'key', from: { data: { values: dims }, key: 'key', fields: ['name', 'pos'] } },
    ],
    layer: [
      { mark: { type: 'rule', color: themeColor('descriptionForeground', '#999999'), opacity: 0.6 }, encoding: { detail: { aggregate: 'count' }, x } },
      {
        mark: { type: 'line', strokeWidth: 1.5, opacity: 0.85 },
        encoding: {
          x,
          y: { field: 'norm', type: 'quantitative', axis: null, scale: { domain: [0, 1] } },
          color: { field: 'run', type: 'nominal', scale: colors, legend: null },
          detail: { field: 'index', type: 'nominal' },
          order: { field: 'pos', type: 'quantitative' },
          tooltip: [{ field: 'run', type: 'nominal' }, { field: 'name', type: 'nominal', title: 'axis' }, { field: 'value', type: 'quantitative', format: '.6~g' }],
        },
      },
      { mark: { type: 'text', dy: -8, style: 'label' }, encoding: { x, y: { value: 0 }, text: { aggregate: 'max', field: 'max', format: '.4~g' } } },
      { mark: { type: 'text', dy: 12, style: 'label' }, encoding: { x, y: { value: 240 }, text: { aggregate: 'min', field: 'min', format: '.4~g' } } },
    ],
  } as TopLevelSpec;
}

function scatterData(state: CompareState, v: CompareView): { rows: Record<string, unknown>[]; numeric: boolean } {
  const px = v.scatterX;
  const my = v.scatterY;
  if (!px || !my) return { rows: [], numeric: true };
  const numeric = state.runs.every((r) => !Object.hasOwn(r.params, px) || Object.hasOwn(r.paramNumbers, px));
  const rows = state.runs
    .filter((r) => Object.hasOwn(r.params, px) && Object.hasOwn(r.finals, my) && Number.isFinite(fromDisplayNumber(r.finals[my])))
    .map((r) => ({ run: r.label, x: numeric ? r.paramNumbers[px] : r.params[px], y: fromDisplayNumber(r.finals[my]) }));
  return { rows, numeric };
}

function scatterSpec(state: CompareState, v: CompareView, numeric: boolean): TopLevelSpec {
  return {
    width: chartWidth(),
    height: 220,
    config: chartConfig(),
    data: { name: 'points' },
    mark: { type: 'point', filled: true, size: 90, opacity: 0.9 },
    encoding: {
      x: { field: 'x', type: numeric ? 'quantitative' : 'nominal', title: v.scatterX === undefined ? undefined : vegaText(v.scatterX), scale: numeric ? { zero: false } : undefined },
      y: { field: 'y', type: 'quantitative', title: `${v.scatterY} (final)`, scale: { zero: false } },
      color: { field: 'run', type: 'nominal', scale: colorScale(state), legend: null },
      tooltip: [{ field: 'run', type: 'nominal' }, { field: 'x', title: v.scatterX }, { field: 'y', type: 'quantitative', title: v.scatterY, format: '.6~g' }],
    },
  } as TopLevelSpec;
}

// ---------- DOM ----------

function section(title: string, testId: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'section', testId }, h('h2', null, title), ...children);
}

function chartCard(id: string, title: string): { card: HTMLElement; body: HTMLElement } {
  const body = h('div', { class: 'chart', testId: `chart:${id}` });
  const exports = h(
    'span',
    { class: 'chart-actions' },
    tkButton('SVG', () => void exportChart(id, 'svg'), { testId: `export:svg:${id}`, secondary: true, title: 'Export this chart as SVG' }),
    tkButton('PNG', () => void exportChart(id, 'png'), { testId: `export:png:${id}`, secondary: true, title: 'Export this chart as PNG' }),
  );
  const card = h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('span', { class: 'card-title' }, title), exports), body);
  return { card, body };
}

async function exportData(chartId: string, format: ExportFormat): Promise<string> {
  const chart = charts.get(chartId);
  if (!chart) throw new Error(`no chart ${chartId}`);
  return format === 'svg' ? chart.view.toSVG() : chart.view.toImageURL('png', 2);
}

async function exportChart(chartId: string, format: ExportFormat, requestId?: number): Promise<void> {
  try {
    const data = await exportData(chartId, format);
    send(requestId === undefined ? { type: 'exportChart', chartId, format, data } : { type: 'exportChart', chartId, format, data, requestId });
  } catch (err) {
    showError(`Could not export ${chartId}: ${(err as Error).message ?? err}`);
  }
}

function controls(state: CompareState, v: CompareView): HTMLElement {
  const metricBoxes = state.metrics.map((m) =>
    tkCheckbox(m.name, v.metrics.includes(m.name), (checked) => {
      if (!view) return;
      const chosen = new Set(view.metrics);
      if (checked) chosen.add(m.name);
      else chosen.delete(m.name);
      view = { ...view, metrics: state.metrics.map((x) => x.name).filter((n) => chosen.has(n)) };
      saveView();
      void renderCharts();
    }, { testId: `metric:${m.name}`, title: `${m.goal === 'max' ? 'higher' : 'lower'} is better (${m.goalSource})` }),
  );
  const paramBoxes = state.params.map((p) =>
    tkCheckbox(p, v.params.includes(p), (checked) => {
      if (!view) return;
      const chosen = new Set(view.params);
      if (checked) chosen.add(p);
      else chosen.delete(p);
      view = { ...view, params: state.params.filter((n) => chosen.has(n)) };
      saveView();
      void renderCharts(['parallel']);
    }, { testId: `param:${p}` }),
  );
  let smoothTimer: ReturnType<typeof setTimeout> | undefined;
  return h(
    'div',
    { class: 'controls', testId: 'controls' },
    h('div', { class: 'control-row' }, h('span', { class: 'control-label' }, 'Metrics'), ...(metricBoxes.length ? metricBoxes : [h('span', { class: 'muted' }, 'none logged')])),
    h('div', { class: 'control-row' }, h('span', { class: 'control-label' }, 'Params'), ...(paramBoxes.length ? paramBoxes : [h('span', { class: 'muted' }, 'none logged')])),
    h(
      'div',
      { class: 'control-row' },
      tkRadioGroup('X axis', [{ value: 'step', label: 'Step' }, { value: 'time', label: 'Wall time' }], v.xAxis, (value) => {
        if (!view || (value !== 'step' && value !== 'time')) return;
        view = { ...view, xAxis: value };
        saveView();
        void renderCharts(['line']);
      }, { testId: 'x-axis' }),
      tkCheckbox('Log scale', v.logScale, (checked) => {
        if (!view) return;
        view = { ...view, logScale: checked };
        saveView();
        void renderCharts(['line']);
      }, { testId: 'log-scale' }),
      tkSlider('Smoothing', { min: 0, max: 0.99, step: 0.01 }, v.smoothing, (value) => {
        if (!view) return;
        view = { ...view, smoothing: value };
        if (smoothTimer) clearTimeout(smoothTimer);
        smoothTimer = setTimeout(() => {
          saveView();
          void resmooth();
        }, 80);
      }, { testId: 'smoothing' }),
    ),
  );
}

function table(state: CompareState): HTMLElement {
  const t = state.table;
  const rows = sort ? sortRows(t, sort.key, sort.descending) : t.rows;
  const colors = colorScale(state);
  const head = h(
    'tr',
    null,
    ...t.columns.map((c) => {
      const arrow = sort?.key === c.key ? (sort.descending ? ' ▼' : ' ▲') : '';
      const goal = c.goal ? (c.goal === 'max' ? ' ↑' : ' ↓') : '';
      return h(
        'th',
        {
          class: [c.numeric ? 'num' : '', c.differs ? 'differs' : '', 'sortable'].filter(Boolean).join(' '),
          testId: `sort:${c.key}`,
          title: `Sort by ${c.label}${c.differs ? ' (the runs differ here)' : ''}`,
          onClick: () => {
            sort = sort?.key === c.key ? { key: c.key, descending: !sort.descending } : { key: c.key, descending: false };
            byTestId('runs-table')?.replaceWith(table(state));
          },
        },
        `${c.label}${goal}${arrow}`,
      );
    }),
  );
  const body = rows.map((row) => {
    const run = state.runs.find((r) => r.id === row.runId);
    return h(
      'tr',
      { testId: `row:${row.runId}` },
      ...t.columns.map((c: TableColumn) => {
        const cell = row.cells[c.key];
        const cls = [c.numeric ? 'num' : '', c.differs ? 'differs' : '', cell?.best ? 'best' : ''].filter(Boolean).join(' ');
        if (c.kind === 'run') {
          const swatch = h('span', { class: 'swatch' });
          swatch.style.background = colors.range[colors.domain.indexOf(run?.label ?? '')] ?? 'transparent';
          return h('td', { class: cls }, swatch, link(cell?.text ?? row.runId, () => send({ type: 'openRun', id: row.runId }), { testId: `open-run:${row.runId}`, title: `Open the details of run ${row.runId}` }));
        }
        return h('td', { class: cls || undefined, testId: `cell:${row.runId}:${c.key}`, title: cell?.best ? 'Best value' : undefined }, cell?.best ? '★ ' : '', cell?.text ?? '');
      }),
    );
  });
  return h('table', { class: 'grid', testId: 'runs-table' }, h('thead', null, head), h('tbody', null, ...body));
}

// ---------- rendering ----------

function finalizeCharts(kinds?: RenderedChart['kind'][]): void {
  for (const [id, c] of charts) {
    if (kinds && !kinds.includes(c.kind)) continue;
    c.view.finalize();
    charts.delete(id);
  }
}

function countDistinct(rows: readonly { run: string }[]): number {
  return new Set(rows.map((r) => r.run)).size;
}

/** (Re)draws the charts of the given kinds (all by default) into their sections; the rest stays as it is. */
async function renderCharts(kinds: RenderedChart['kind'][] = ['line', 'bar', 'parallel', 'scatter']): Promise<void> {
  if (!current || !view) return;
  const started = performance.now();
  const { version, state } = current;
  const v = view;
  const generation = ++renderGeneration;
  finalizeCharts(kinds);
  const jobs: { id: string; kind: RenderedChart['kind']; metric?: string; body: HTMLElement; spec: TopLevelSpec; data: Record<string, unknown[]>; series: number }[] = [];
  const chosen = state.metrics.filter((m) => v.metrics.includes(m.name));

  if (kinds.includes('line')) {
    const grid = h('div', { class: 'charts' });
    for (const m of chosen) {
      if (!state.series.some((s) => s.metric === m.name) && ![...series.keys()].some((k) => k.endsWith(`\0${m.name}`))) continue;
      const { card, body } = chartCard(`line:${m.name}`, m.name);
      grid.appendChild(card);
      const rows = allLineRows(state, m.name, v);
      jobs.push({ id: `line:${m.name}`, kind: 'line', metric: m.name, body, spec: lineSpec(state, m, v), data: { series: rows }, series: countDistinct(rows) });
    }
    byTestId('lines')?.replaceChildren(h('h2', null, 'Metrics over ', v.xAxis === 'step' ? 'steps' : 'time'), grid.childElementCount ? grid : h('p', { class: 'muted' }, 'Choose metrics above.'));
  }
  if (kinds.includes('bar')) {
    const grid = h('div', { class: 'charts' });
    for (const m of chosen) {
      const rows = barRows(state, m);
      if (!rows.length) continue;
      const { card, body } = chartCard(`bar:${m.name}`, `${m.name} — final`);
      grid.appendChild(card);
      jobs.push({ id: `bar:${m.name}`, kind: 'bar', metric: m.name, body, spec: barSpec(state, m), data: { bars: rows }, series: rows.length });
    }
    byTestId('bars')?.replaceChildren(h('h2', null, 'Final metrics'), grid.childElementCount ? grid : h('p', { class: 'muted' }, 'No final values for the chosen metrics.'));
  }
  if (kinds.includes('parallel')) {
    const { rows, dims } = parallelData(state, v);
    const target = byTestId('parallel');
    if (dims.length >= 2) {
      const { card, body } = chartCard('parallel', 'Params and final metrics (each axis from its minimum to its maximum)');
      target?.replaceChildren(h('h2', null, 'Parallel coordinates'), card);
      const drawn = rows.filter((r) => dims.some((d) => r[d.key] !== null)).length;
      jobs.push({ id: 'parallel', kind: 'parallel', body, spec: parallelSpec(state, dims), data: { runs: rows }, series: drawn });
    } else {
      target?.replaceChildren(h('h2', null, 'Parallel coordinates'), h('p', { class: 'muted' }, 'Choose at least two params or metrics.'));
    }
  }
  if (kinds.includes('scatter')) {
    const target = byTestId('scatter');
    const pick = h(
      'div',
      { class: 'control-row' },
      h('span', { class: 'control-label' }, 'x'),
      tkDropdown(state.params.map((p) => ({ value: p, label: p })), v.scatterX, (value) => {
        if (!view) return;
        view = { ...view, scatterX: value };
        saveView();
        void renderCharts(['scatter']);
      }, { testId: 'scatter-x' }),
      h('span', { class: 'control-label' }, 'y'),
      tkDropdown(state.metrics.map((m) => ({ value: m.name, label: m.name })), v.scatterY, (value) => {
        if (!view) return;
        view = { ...view, scatterY: value };
        saveView();
        void renderCharts(['scatter']);
      }, { testId: 'scatter-y' }),
    );
    const { rows, numeric } = scatterData(state, v);
    if (v.scatterX && v.scatterY) {
      const { card, body } = chartCard('scatter', `${v.scatterY} by ${v.scatterX}`);
      target?.replaceChildren(h('h2', null, 'Param vs metric'), pick, card);
      jobs.push({ id: 'scatter', kind: 'scatter', body, spec: scatterSpec(state, v, numeric), data: { points: rows }, series: rows.length });
    } else {
      target?.replaceChildren(h('h2', null, 'Param vs metric'), pick, h('p', { class: 'muted' }, 'Needs a param and a metric.'));
    }
  }

  const errors: string[] = [];
  const drawn: RenderedChart[] = [];
  await Promise.all(
    jobs.map(async (job) => {
      try {
        const vw = await renderWithData(job.body, job.spec, job.data);
        if (generation !== renderGeneration && charts.has(job.id)) {
          vw.finalize();
          return;
        }
        charts.get(job.id)?.view.finalize();
        charts.set(job.id, { id: job.id, kind: job.kind, metric: job.metric, view: vw });
        if (job.body.querySelector('svg')) drawn.push({ id: job.id, kind: job.kind, series: job.series });
        else errors.push(`${job.id}: nothing drawn`);
      } catch (err) {
        errors.push(`${job.id}: ${(err as Error).message ?? err}`);
      }
    }),
  );
  if (generation !== renderGeneration) return;
  // Report every chart on the page, not only those drawn now.
  const all: RenderedChart[] = [...charts.values()].map((c) => drawn.find((d) => d.id === c.id) ?? { id: c.id, kind: c.kind, series: countSeries(c) });
  all.sort((a, b) => a.id.localeCompare(b.id));
  send({ type: 'rendered', version, charts: all, ms: Math.round(performance.now() - started), errors: [...errors, ...takeViolations()] });
}

function countSeries(c: Chart): number {
  const name = c.kind === 'line' ? 'series' : c.kind === 'bar' ? 'bars' : c.kind === 'parallel' ? 'runs' : 'points';
  const rows = c.view.data(name) as { run: string }[];
  return c.kind === 'line' ? countDistinct(rows) : rows.length;
}

/** New smoothing: the line charts' data is swapped through a changeset; the specs stay. */
async function resmooth(): Promise<void> {
  if (!current || !view) return;
  const v = view;
  const state = current.state;
  await Promise.all(
    [...charts.values()]
      .filter((c) => c.kind === 'line' && c.metric)
      .map((c) => c.view.change('series', changeset().remove(() => true).insert(allLineRows(state, c.metric as string, v))).runAsync()),
  );
  send({ type: 'rendered', version: current.version, charts: [...charts.values()].map((c) => ({ id: c.id, kind: c.kind, series: countSeries(c) })).sort((a, b) => a.id.localeCompare(b.id)), ms: 0, errors: takeViolations() });
}

async function render(): Promise<void> {
  if (!current) return;
  const { state } = current;
  if (!view) view = saved?.view ?? state.view;
  for (const c of charts.values()) c.view.finalize();
  charts = new Map();
  emaState.clear();
  const missing = state.missing.length ? h('p', { class: 'warning', testId: 'missing' }, `Not found (deleted?): ${state.missing.join(', ')}`) : null;
  const live = state.runs.filter((r) => !r.terminal).length;
  const page = h(
    'div',
    { class: 'page', 'data-toolkit-mode': toolkitMode() },
    h(
      'header',
      { class: 'summary' },
      h('h1', null, state.title, h('span', { class: 'muted' }, ` — ${state.folderName}`)),
      live ? tkTag(`${live} live`, { testId: 'live' }) : null,
      missing,
    ),
    controls(state, view),
    h('section', { class: 'section', testId: 'lines' }),
    h('section', { class: 'section', testId: 'bars' }),
    h('section', { class: 'section', testId: 'parallel' }),
    h('section', { class: 'section', testId: 'scatter' }),
    section(
      'Runs',
      'table',
      h('div', { class: 'actions' }, tkButton('Export CSV', () => send(sort ? { type: 'exportCsv', sort } : { type: 'exportCsv' }), { testId: 'export-csv', secondary: true })),
      h('div', { class: 'table-wrap' }, table(state)),
      h('p', { class: 'muted legend' }, h('span', { class: 'differs-sample' }, 'highlighted'), ' columns differ across runs; ★ marks the best final value (by the metric\'s goal).'),
    ),
  );
  app.replaceChildren(page);
  await renderCharts();
}

/** New points of a live run: inserted into the metric's line chart with a changeset (no re-render). */
async function append(msg: Extract<ToWebview, { type: 'append' }>): Promise<void> {
  if (!current || msg.version !== current.version) return;
  const state = current.state;
  const run = state.runs.find((r) => r.id === msg.runId);
  if (!run) return;
  const k = key(msg.runId, msg.metric);
  const points = series.get(k) ?? { steps: [], times: [], values: [] };
  const from = points.values.length;
  points.steps.push(...msg.points.steps);
  points.times.push(...msg.points.times);
  points.values.push(...msg.points.values);
  series.set(k, points);
  // An own property, whatever the name ("__proto__" included).
  Object.defineProperty(run.finals, msg.metric, { value: msg.final, writable: true, enumerable: true, configurable: true });
  // The table sorts (and reads) the same value the CSV export will have.
  const row = state.table.rows.find((r) => r.runId === msg.runId);
  const cellKey = `metric:${msg.metric}`;
  if (row && Object.hasOwn(row.cells, cellKey)) Object.assign(row.cells[cellKey], metricCell(msg.final));
  const errors: string[] = [];
  let count = 0;
  const chart = charts.get(`line:${msg.metric}`);
  try {
    if (chart && view) {
      await chart.view.change('series', changeset().insert(lineRows(run, msg.metric, points, from, view))).runAsync();
      count = (chart.view.data('series') as LineRow[]).filter((r) => r.run === run.label).length;
    }
    const bars = charts.get(`bar:${msg.metric}`);
    const final = fromDisplayNumber(msg.final);
    if (bars && Number.isFinite(final)) {
      const has = (bars.view.data('bars') as BarRow[]).some((r) => r.run === run.label);
      const cs = has ? changeset().modify((r: BarRow) => r.run === run.label, 'value', final) : changeset().insert([{ run: run.label, order: state.runs.indexOf(run), value: final, best: false }]);
      await bars.view.change('bars', cs).runAsync();
    }
  } catch (err) {
    errors.push(`append to ${msg.metric}: ${(err as Error).message ?? err}`);
  }
  const cell = byTestId(`cell:${msg.runId}:metric:${msg.metric}`);
  // The best marks stay as the last full state set them; the next one (when a run ends) recomputes them.
  if (cell) cell.textContent = `${cell.classList.contains('best') ? '★ ' : ''}${metricCell(msg.final).text}`;
  send({ type: 'appended', version: msg.version, runId: msg.runId, metric: msg.metric, points: count, errors: [...errors, ...takeViolations()] });
}

onThemeChange(() => enqueue(() => renderCharts()));
