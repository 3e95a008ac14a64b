/**
 * Builds the Compare Runs webview state from what is on disk (run records and their tracking events), and the
 * table's CSV. Pure: no vscode, no I/O, so it runs under plain mocha (test/unit/compareData.test.ts).
 */
import { RunRecord, durationMs, isTerminal } from '../../model/runs/run';
import { formatDuration, formatNumber } from '../../model/common/format';
import type { MetricGoal, MetricPoint, TrackingData } from '../../model/runs/trackingEvents';
import type {
  CompareRun,
  CompareSeries,
  CompareState,
  CompareTable,
  CompareView,
  GoalSource,
  MetricInfo,
  SeriesPoints,
  TableCell,
  TableColumn,
  TableRow,
} from './compare';
import { DisplayNumber, displayValue as display, fromDisplayNumber, ownEntries as own, toDisplayNumber } from './common';

/** Most points one series keeps. */
export const MAX_POINTS_PER_SERIES = 1000;
/** Fewest points one series is cut down to, however many series there are. */
export const MIN_POINTS_PER_SERIES = 100;
/** Points of all series together: with many runs, each series gets a share of this (bounded by the two above). */
export const TOTAL_POINT_BUDGET = 60_000;

/** Metrics minimised when nothing else says which way is better. */
const MINIMISED_NAME = /loss|error|mse|mae|rmse/i;

export interface XY {
  x: number;
  y: number;
}

/**
 * Largest-Triangle-Three-Buckets downsampling to at most `max` points, in order, which also keeps the series'
 * minimum and maximum (LTTB alone may drop a spike that is not the most "visible" in its bucket). The first and
 * last points are always kept. `max` below 4 is taken as 4.
 */
export function lttb<T extends XY>(points: readonly T[], max: number): T[] {
  const limit = Math.max(4, Math.floor(max));
  const n = points.length;
  if (n <= limit) return points.slice();
  let lo = 0;
  let hi = 0;
  for (let i = 1; i < n; i++) {
    if (points[i].y < points[lo].y) lo = i;
    if (points[i].y > points[hi].y) hi = i;
  }
  // Two slots are held back for the extremes, added after if LTTB did not pick them.
  const threshold = limit - 2;
  const keep: number[] = [0];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let b = 0; b < threshold - 2; b++) {
    const from = Math.floor(b * every) + 1;
    const to = Math.min(n - 1, Math.floor((b + 1) * every) + 1);
    // Average of the next bucket (the last point for the last bucket).
    const nFrom = to;
    const nTo = Math.min(n, Math.floor((b + 2) * every) + 1);
    let ax = 0;
    let ay = 0;
    const count = Math.max(1, nTo - nFrom);
    if (nTo > nFrom) {
      for (let i = nFrom; i < nTo; i++) {
        ax += points[i].x;
        ay += points[i].y;
      }
      ax /= count;
      ay /= count;
    } else {
      ax = points[n - 1].x;
      ay = points[n - 1].y;
    }
    const px = points[a].x;
    const py = points[a].y;
    let best = from;
    let bestArea = -1;
    for (let i = from; i < to; i++) {
      const area = Math.abs((px - ax) * (points[i].y - py) - (px - points[i].x) * (ay - py));
      if (area > bestArea) {
        bestArea = area;
        best = i;
      }
    }
    keep.push(best);
    a = best;
  }
  keep.push(n - 1);
  const set = new Set(keep);
  set.add(lo);
  set.add(hi);
  return [...set].sort((x, y) => x - y).map((i) => points[i]);
}

/** How many points each of `seriesCount` series may keep. */
export function pointsPerSeries(seriesCount: number, budget = TOTAL_POINT_BUDGET): number {
  if (seriesCount <= 0) return MAX_POINTS_PER_SERIES;
  return Math.max(MIN_POINTS_PER_SERIES, Math.min(MAX_POINTS_PER_SERIES, Math.floor(budget / seriesCount)));
}

/**
 * The finite points of a metric as series points: x is the step when every point has one, else the index; time
 * is seconds since `t0` (the run's first event).
 */
export function seriesPoints(points: readonly MetricPoint[], t0: number, max: number, indexOffset = 0): SeriesPoints & { total: number } {
  const byStep = points.length > 0 && points.every((p) => p.step !== null);
  const finite: (XY & { t: number })[] = [];
  points.forEach((p, i) => {
    if (Number.isFinite(p.value)) finite.push({ x: byStep ? (p.step as number) : indexOffset + i, y: p.value, t: p.t - t0 });
  });
  const kept = lttb(finite, max);
  return { steps: kept.map((p) => p.x), times: kept.map((p) => round3(p.t)), values: kept.map((p) => p.y), total: points.length };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** The first event time of a run's tracking data (seconds), for wall-time axes. */
export function trackingStart(tracking: TrackingData): number {
  let t0 = Infinity;
  for (const points of Object.values(tracking.metrics)) if (points.length && points[0].t < t0) t0 = points[0].t;
  return Number.isFinite(t0) ? t0 : 0;
}

function isGoal(v: unknown): v is MetricGoal {
  return v === 'max' || v === 'min';
}

/**
 * Which way a metric is better: the goal a run logged it with (mlw.log_metric(..., goal=)), else the
 * `mlw.metricGoals` setting, else "min" for names with loss/error/mse/mae/rmse, else "max".
 */
export function resolveGoal(name: string, trackingGoals: readonly Record<string, MetricGoal>[], settingGoals: Record<string, unknown> = {}): { goal: MetricGoal; source: GoalSource } {
  for (const goals of trackingGoals) {
    if (Object.hasOwn(goals, name) && isGoal(goals[name])) return { goal: goals[name], source: 'tracking' };
  }
  if (Object.hasOwn(settingGoals, name) && isGoal(settingGoals[name])) return { goal: settingGoals[name] as MetricGoal, source: 'setting' };
  return MINIMISED_NAME.test(name) ? { goal: 'min', source: 'name' } : { goal: 'max', source: 'default' };
}


/** Own-property record, safe for names like "__proto__". */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

function uniqueLabels(runs: readonly RunRecord[]): string[] {
  const base = runs.map((r) => r.name?.trim() || r.id.slice(-4));
  return base.map((label, i) => {
    const clash = base.some((other, j) => j !== i && other === label);
    return clash ? `${label} (${runs[i].id})` : label;
  });
}

export interface CompareInput {
  run: RunRecord;
  tracking: TrackingData;
}

export interface CompareExtra {
  folder: string;
  folderName: string;
  /** `mlw.metricGoals`: {name: 'max' | 'min'}. */
  settingGoals?: Record<string, unknown>;
  missing?: string[];
  /** The view the webview last reported (kept across re-shows and reloads). */
  view?: CompareView;
  /** Overrides the share of TOTAL_POINT_BUDGET (tests, benchmarks). */
  maxPointsPerSeries?: number;
}

/** The default view: up to four metrics (loss-like first is not assumed: in the order logged), up to eight params. */
export function defaultView(metrics: readonly string[], params: readonly string[]): CompareView {
  return { metrics: metrics.slice(0, 4), params: params.slice(0, 8), xAxis: 'step', logScale: false, smoothing: 0, scatterX: params[0], scatterY: metrics[0] };
}

/** The view, kept to names that exist (a metric may be gone after a run was removed from the set). */
function fitView(view: CompareView | undefined, metrics: readonly string[], params: readonly string[]): CompareView {
  if (!view) return defaultView(metrics, params);
  const out: CompareView = {
    ...view,
    metrics: view.metrics.filter((m) => metrics.includes(m)),
    params: view.params.filter((p) => params.includes(p)),
  };
  if (!out.scatterX || !params.includes(out.scatterX)) out.scatterX = params[0];
  if (!out.scatterY || !metrics.includes(out.scatterY)) out.scatterY = metrics[0];
  if (out.scatterX === undefined) delete out.scatterX;
  if (out.scatterY === undefined) delete out.scatterY;
  return out;
}

/** The final value of each metric of a run: the last one logged, else the run record's. */
function finalsOf(input: CompareInput): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of own(input.run.metrics)) if (typeof value === 'number') setOwn(out, name, value);
  for (const [name, points] of own(input.tracking.metrics)) if (points.length) setOwn(out, name, points[points.length - 1].value);
  return out;
}

export function buildCompareState(inputs: readonly CompareInput[], extra: CompareExtra): CompareState {
  const metricNames: string[] = [];
  const paramNames: string[] = [];
  const addName = (list: string[], name: string) => {
    if (!list.includes(name)) list.push(name);
  };
  const finals = inputs.map(finalsOf);
  for (let i = 0; i < inputs.length; i++) {
    for (const [name] of own(inputs[i].tracking.metrics)) addName(metricNames, name);
    for (const name of Object.keys(finals[i])) addName(metricNames, name);
    for (const [name] of own(inputs[i].run.params)) addName(paramNames, name);
    for (const [name] of own(inputs[i].tracking.params)) addName(paramNames, name);
  }

  const labels = uniqueLabels(inputs.map((i) => i.run));
  const runs: CompareRun[] = inputs.map(({ run, tracking }, i) => {
    const params = new Map<string, unknown>(own(run.params));
    for (const [name, value] of own(tracking.params)) params.set(name, value);
    const r: CompareRun = {
      id: run.id,
      label: labels[i],
      script: run.script,
      status: run.status,
      terminal: isTerminal(run.status),
      createdAt: run.createdAt,
      params: {},
      paramNumbers: {},
      finals: {},
    };
    for (const [name, value] of params) {
      setOwn(r.params, name, display(value));
      const n = typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : NaN;
      if (Number.isFinite(n)) setOwn(r.paramNumbers, name, n);
    }
    for (const [name, value] of Object.entries(finals[i])) setOwn(r.finals, name, toDisplayNumber(value));
    if (run.endedAt) r.durationMs = durationMs(run);
    if (run.git) {
      r.commit = run.git.commit.slice(0, 12);
      r.dirty = run.git.dirty;
    }
    return r;
  });

  const trackingGoals = inputs.map((i) => i.tracking.goals);
  const metrics: MetricInfo[] = metricNames.map((name) => {
    const { goal, source } = resolveGoal(name, trackingGoals, extra.settingGoals);
    const info: MetricInfo = { name, goal, goalSource: source };
    let best: number | undefined;
    finals.forEach((f) => {
      const v = Object.hasOwn(f, name) ? f[name] : NaN;
      if (!Number.isFinite(v)) return;
      if (best === undefined || (goal === 'max' ? v > best : v < best)) best = v;
    });
    if (best !== undefined) info.best = { value: best, runIds: inputs.filter((_, i) => Object.hasOwn(finals[i], name) && finals[i][name] === best).map((x) => x.run.id) };
    return info;
  });

  let seriesCount = 0;
  for (const { tracking } of inputs) seriesCount += own(tracking.metrics).filter(([, p]) => p.length > 0).length;
  const maxPoints = extra.maxPointsPerSeries ?? pointsPerSeries(seriesCount);
  const series: CompareSeries[] = [];
  for (const { run, tracking } of inputs) {
    const t0 = trackingStart(tracking);
    for (const [metric, points] of own(tracking.metrics)) {
      if (!points.length) continue;
      series.push({ runId: run.id, metric, ...seriesPoints(points, t0, maxPoints) });
    }
  }

  const folderTitle = inputs.length === 1 ? '1 run' : `${inputs.length} runs`;
  return {
    folder: extra.folder,
    folderName: extra.folderName,
    title: `Compare ${folderTitle}`,
    runs,
    missing: extra.missing?.slice() ?? [],
    metrics,
    params: paramNames,
    series,
    table: buildTable(runs, metrics, paramNames),
    view: fitView(extra.view, metricNames, paramNames),
    maxPointsPerSeries: maxPoints,
  };
}

/** The runs × (params, final metrics, duration, status, commit) table, with differing columns and best values marked. */
export function buildTable(runs: readonly CompareRun[], metrics: readonly MetricInfo[], params: readonly string[]): CompareTable {
  const columns: TableColumn[] = [
    { key: 'run', label: 'Run', kind: 'run', numeric: false, differs: false },
    { key: 'status', label: 'Status', kind: 'status', numeric: false, differs: false },
    { key: 'duration', label: 'Duration', kind: 'duration', numeric: true, differs: false },
    { key: 'commit', label: 'Commit', kind: 'commit', numeric: false, differs: false },
    ...params.map((p): TableColumn => ({ key: `param:${p}`, label: p, kind: 'param', numeric: runs.some((r) => Object.hasOwn(r.paramNumbers, p)), differs: false })),
    ...metrics.map((m): TableColumn => ({ key: `metric:${m.name}`, label: m.name, kind: 'metric', numeric: true, differs: false, goal: m.goal })),
  ];
  const rows: TableRow[] = runs.map((r) => {
    const cells: Record<string, TableCell> = {};
    setOwn(cells, 'run', { text: r.label });
    setOwn(cells, 'status', { text: r.status });
    setOwn(cells, 'duration', r.durationMs === undefined ? { text: r.terminal ? '' : 'running' } : { text: formatDuration(r.durationMs), value: r.durationMs });
    setOwn(cells, 'commit', { text: r.commit ? `${r.commit.slice(0, 7)}${r.dirty ? '*' : ''}` : '' });
    for (const p of params) {
      const cell: TableCell = { text: Object.hasOwn(r.params, p) ? r.params[p] : '' };
      if (Object.hasOwn(r.paramNumbers, p)) cell.value = r.paramNumbers[p];
      setOwn(cells, `param:${p}`, cell);
    }
    for (const m of metrics) {
      const cell: TableCell = { text: '' };
      if (Object.hasOwn(r.finals, m.name)) {
        Object.assign(cell, metricCell(r.finals[m.name]));
        if (m.best && m.best.runIds.includes(r.id)) cell.best = true;
      }
      setOwn(cells, `metric:${m.name}`, cell);
    }
    return { runId: r.id, cells };
  });
  for (const c of columns) {
    if (c.kind === 'run' || c.kind === 'duration' || rows.length < 2) continue;
    const first = rows[0].cells[c.key];
    c.differs = rows.some((row) => cellKey(row.cells[c.key]) !== cellKey(first));
  }
  return { columns, rows };
}

function cellKey(cell: TableCell | undefined): string {
  if (!cell) return '';
  return cell.value !== undefined ? `n:${cell.value}` : `t:${cell.text}`;
}

/** A final metric value as a cell: the text the table shows and the value sorting and the CSV use. */
export function metricCell(v: DisplayNumber): { text: string; value: DisplayNumber } {
  return { text: formatNumber(fromDisplayNumber(v)), value: v };
}

function isEmpty(cell: TableCell | undefined): boolean {
  return !cell || (cell.value === undefined && cell.text === '');
}

/** A cell's number for sorting: ±Infinity order as numbers do; NaN and text have none. */
function sortNumber(cell: TableCell): number | undefined {
  if (cell.value === undefined) return undefined;
  const n = fromDisplayNumber(cell.value);
  return Number.isNaN(n) ? undefined : n;
}

/** Made on first sort, not at load: creating a collator costs milliseconds that activation should not pay. */
let collator: Intl.Collator | undefined;
const naturalOrder = (a: string, b: string) => (collator ??= new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })).compare(a, b);

/**
 * The one order of the table's rows, for the webview's table and the CSV alike. In a numeric column numbers
 * (with -Infinity first and Infinity last) come before cells without one (NaN, "running"), which follow in text
 * order; elsewhere text in natural order. Empty cells are last in either direction; ties keep the run order.
 */
export function compareRows(column: TableColumn, descending: boolean): (a: TableRow, b: TableRow) => number {
  const sign = descending ? -1 : 1;
  return (a, b) => {
    const ca = a.cells[column.key];
    const cb = b.cells[column.key];
    const ea = isEmpty(ca);
    const eb = isEmpty(cb);
    if (ea || eb) return ea === eb ? 0 : ea ? 1 : -1;
    if (column.numeric) {
      const na = sortNumber(ca);
      const nb = sortNumber(cb);
      if (na !== undefined && nb !== undefined) return na === nb ? 0 : sign * (na < nb ? -1 : 1);
      if (na !== undefined || nb !== undefined) return na !== undefined ? -1 : 1;
    }
    return sign * naturalOrder(ca.text, cb.text);
  };
}

/** Rows sorted by a column (compareRows); the rows as they are for an unknown column. */
export function sortRows(table: CompareTable, key: string, descending: boolean): TableRow[] {
  const column = table.columns.find((c) => c.key === key);
  return column ? table.rows.slice().sort(compareRows(column, descending)) : table.rows.slice();
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, or starts or ends with a space; quotes
 * doubled. Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe.
 */
export function csvField(text: string, numeric = false): string {
  let t = text;
  if (!numeric && /^[=+\-@\t\r]/.test(t)) t = `'${t}`;
  return /[",\r\n]|^\s|\s$/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/**
 * The table as CSV, in the order sortRows gives (the table's): the run id, then each column. Numbers go through
 * the table's formatter in full precision, not as shown; CRLF line ends (RFC 4180).
 */
export function tableToCsv(table: CompareTable, sort?: { key: string; descending: boolean }): string {
  const rows = sort ? sortRows(table, sort.key, sort.descending) : table.rows;
  const header = ['run id', ...table.columns.map((c) => (c.kind === 'duration' ? 'duration (s)' : c.kind === 'metric' || c.kind === 'param' ? c.label : c.label.toLowerCase()))];
  const lines = [header.map((h) => csvField(h)).join(',')];
  for (const row of rows) {
    const fields = [csvField(row.runId)];
    for (const c of table.columns) {
      const cell = row.cells[c.key];
      if (!cell) fields.push('');
      else if (cell.value === undefined) fields.push(csvField(cell.text));
      else {
        const n = fromDisplayNumber(cell.value);
        const value = c.kind === 'duration' ? n / 1000 : n;
        // Only what a spreadsheet reads as a number skips the formula guard ("-Infinity" would run as one).
        fields.push(c.kind === 'param' ? csvField(cell.text, true) : csvField(formatNumber(value, 'full'), Number.isFinite(value)));
      }
    }
    lines.push(fields.join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/**
 * The points of a metric logged after the first `already` ones, as series points (not downsampled), for an
 * `append` message. x continues the index when the series has no steps.
 */
export function appendedPoints(points: readonly MetricPoint[], already: number, t0: number): SeriesPoints {
  const fresh = points.slice(already);
  const byStep = points.every((p) => p.step !== null);
  const out: SeriesPoints = { steps: [], times: [], values: [] };
  fresh.forEach((p, i) => {
    if (!Number.isFinite(p.value)) return;
    out.steps.push(byStep ? (p.step as number) : already + i);
    out.times.push(round3(p.t - t0));
    out.values.push(p.value);
  });
  return out;
}

/**
 * "Compare with best": among `candidates` (other runs of the same script), the one with the best final value of
 * `metric` by `goal`; ended runs only. Undefined when none has the metric. Summaries from the run index will do.
 */
export function pickBestRun<R extends Pick<RunRecord, 'id' | 'script' | 'status' | 'metrics'>>(run: Pick<RunRecord, 'id' | 'script'>, candidates: readonly R[], metric: string, goal: MetricGoal): R | undefined {
  let best: R | undefined;
  let bestValue = NaN;
  for (const c of candidates) {
    if (c.id === run.id || c.script !== run.script || !isTerminal(c.status)) continue;
    const v = c.metrics && Object.hasOwn(c.metrics, metric) ? c.metrics[metric] : NaN;
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (best === undefined || (goal === 'max' ? v > bestValue : v < bestValue)) {
      best = c;
      bestValue = v;
    }
  }
  return best;
}

/** The metric a run is judged by: `preferred` (mlw.primaryMetric) when it has it, else the first it logged. */
export function primaryMetricOf(run: RunRecord, tracking: TrackingData | undefined, preferred: string): string | undefined {
  const names = [...own(tracking?.metrics).map(([n]) => n), ...own(run.metrics).map(([n]) => n)];
  if (preferred && names.includes(preferred)) return preferred;
  return names[0];
}
