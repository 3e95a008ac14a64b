/**
 * The contract of the Compare Runs webview, imported by both sides (src/views/compare/comparePanel.ts and
 * webviews/compare/main.ts). The extension pushes the full state (and, while runs are live, incremental
 * `append` messages with new metric points); the webview sends intents, which the extension validates with
 * parseFromWebview before acting on them. Pure: no vscode, no node, no DOM.
 */
import type { MetricGoal } from '../../model/runs/trackingEvents';
import type { RunStatus } from '../../model/runs/run';
import {
  DisplayNumber,
  HostToWebview,
  PageContent,
  ReadyMessage,
  RenderedAck,
  errorsOf,
  isCount,
  isNames,
  isObject,
  isRunId,
  isText,
  parseRendered,
} from './common';

export type { DisplayNumber };

export const COMPARE_VIEW_TYPE = 'mlw.compare';

/** Where a metric's direction came from, in precedence order. */
export type GoalSource = 'tracking' | 'setting' | 'name' | 'default';

/** A series' points, columnar (compact in JSON). Non-finite values are left out. */
export interface SeriesPoints {
  /** The step logged, or the index of the point when the series has no steps. */
  steps: number[];
  /** Seconds since the run's first tracking event (wall time). */
  times: number[];
  values: number[];
}

export interface CompareSeries extends SeriesPoints {
  runId: string;
  metric: string;
  /** Points logged, before downsampling. */
  total: number;
}

export interface CompareRun {
  id: string;
  /** Unique among the compared runs: the run's name, else the end of its id (longer when two collide). */
  label: string;
  script: string;
  status: RunStatus;
  terminal: boolean;
  createdAt: string;
  durationMs?: number;
  commit?: string;
  dirty?: boolean;
  /** Display strings of the params (last value logged, else the run record's). */
  params: Record<string, string>;
  /** Numbers where the param is one, for charts (parallel coordinates, scatter). */
  paramNumbers: Record<string, number>;
  /** Last value of each metric (by arrival order). */
  finals: Record<string, DisplayNumber>;
}

export interface MetricInfo {
  name: string;
  goal: MetricGoal;
  goalSource: GoalSource;
  /** Best final value among the runs, by the goal, and which runs have it (ties: all of them). */
  best?: { value: number; runIds: string[] };
}

export type ColumnKind = 'run' | 'status' | 'duration' | 'commit' | 'param' | 'metric';

export interface TableColumn {
  /** `run`, `status`, `duration`, `commit`, `param:<name>` or `metric:<name>`. */
  key: string;
  label: string;
  kind: ColumnKind;
  numeric: boolean;
  /** Whether the runs disagree on this column (its cells are highlighted). Never set for run and duration. */
  differs: boolean;
  goal?: MetricGoal;
}

export interface TableCell {
  /** As shown (numbers through formatNumber). */
  text: string;
  /** The number behind the text, for sorting and CSV; non-finite ones travel as DisplayNumber. */
  value?: DisplayNumber;
  /** The best value of a metric column (by its goal). */
  best?: true;
}

export interface TableRow {
  runId: string;
  cells: Record<string, TableCell>;
}

export interface CompareTable {
  columns: TableColumn[];
  rows: TableRow[];
}

export type XAxis = 'step' | 'time';

/** What the user chose to look at. The webview owns it; the extension keeps the last one (for revive/re-show). */
export interface CompareView {
  metrics: string[];
  params: string[];
  xAxis: XAxis;
  logScale: boolean;
  /** EMA weight, 0 (none) to 0.99. */
  smoothing: number;
  scatterX?: string;
  scatterY?: string;
}

export interface CompareState {
  /** Workspace folder URI (string), so a revived panel finds the same store. */
  folder: string;
  folderName: string;
  title: string;
  runs: CompareRun[];
  /** Requested ids that are not (or no longer) runs of the folder. */
  missing: string[];
  metrics: MetricInfo[];
  params: string[];
  series: CompareSeries[];
  table: CompareTable;
  view: CompareView;
  /** Most points a series was downsampled to. */
  maxPointsPerSeries: number;
}

export type ChartKind = 'line' | 'bar' | 'parallel' | 'scatter';
export type ExportFormat = 'svg' | 'png';

export type ToWebview =
  | { type: 'state'; version: number; state: CompareState }
  /** New points of a live run's metric, to add to the charts without re-rendering them. */
  | { type: 'append'; version: number; runId: string; metric: string; points: SeriesPoints; final: DisplayNumber }
  /** Asks the webview to export a chart (the extension then saves what it sends back). */
  | { type: 'requestExport'; requestId: number; chartId: string; format: ExportFormat }
  | HostToWebview;

export interface RenderedChart {
  id: string;
  kind: ChartKind;
  /** Distinct runs drawn (lines, bars, points or polylines). */
  series: number;
}

export type FromWebview =
  | ReadyMessage
  | { type: 'setView'; view: CompareView }
  | { type: 'openRun'; id: string }
  | { type: 'exportCsv'; sort?: { key: string; descending: boolean } }
  /** A chart as SVG text or a PNG data URL; `requestId` when the extension asked for it. */
  | { type: 'exportChart'; chartId: string; format: ExportFormat; data: string; requestId?: number }
  /** Sent after every render of a state. */
  | (RenderedAck & { charts: RenderedChart[]; ms: number })
  /** Sent after an append was applied: the points the run now has in that metric's chart. */
  | { type: 'appended'; version: number; runId: string; metric: string; points: number; errors?: string[] };

/** An exported chart can be large (SVG of 100 runs); 64 MB is more than any chart here produces. */
export const MAX_EXPORT_BYTES = 64 * 1024 * 1024;

function isChartId(v: unknown): v is string {
  return isText(v, 1100) && /^(line|bar|parallel|scatter)(:.+)?$/s.test(v);
}

export function parseView(v: unknown): CompareView | undefined {
  if (!isObject(v)) return undefined;
  const o = v;
  if (!isNames(o.metrics) || !isNames(o.params)) return undefined;
  if (o.xAxis !== 'step' && o.xAxis !== 'time') return undefined;
  if (typeof o.logScale !== 'boolean') return undefined;
  if (typeof o.smoothing !== 'number' || !(o.smoothing >= 0 && o.smoothing <= 0.99)) return undefined;
  if (o.scatterX !== undefined && !isText(o.scatterX, 1000)) return undefined;
  if (o.scatterY !== undefined && !isText(o.scatterY, 1000)) return undefined;
  const view: CompareView = { metrics: o.metrics.slice(), params: o.params.slice(), xAxis: o.xAxis, logScale: o.logScale, smoothing: o.smoothing };
  if (o.scatterX !== undefined) view.scatterX = o.scatterX as string;
  if (o.scatterY !== undefined) view.scatterY = o.scatterY as string;
  return view;
}

/**
 * A message from the webview as a FromWebview, or undefined when it is not one (unknown type, missing or
 * wrongly typed field). Only the known fields are copied, so nothing else travels further.
 */
export function parseFromWebview(msg: unknown): FromWebview | undefined {
  if (!isObject(msg)) return undefined;
  const m = msg;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'setView': {
      const view = parseView(m.view);
      return view ? { type: 'setView', view } : undefined;
    }
    case 'openRun':
      return isRunId(m.id) ? { type: 'openRun', id: m.id } : undefined;
    case 'exportCsv': {
      if (m.sort === undefined) return { type: 'exportCsv' };
      const s = m.sort as Record<string, unknown> | null;
      if (typeof s !== 'object' || s === null || !isText(s.key, 1100) || typeof s.descending !== 'boolean') return undefined;
      return { type: 'exportCsv', sort: { key: s.key, descending: s.descending } };
    }
    case 'exportChart': {
      if (!isChartId(m.chartId) || (m.format !== 'svg' && m.format !== 'png')) return undefined;
      if (!isText(m.data, MAX_EXPORT_BYTES)) return undefined;
      if (m.format === 'svg' && !/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(m.data)) return undefined;
      if (m.format === 'png' && !m.data.startsWith('data:image/png;base64,')) return undefined;
      if (m.requestId !== undefined && !isCount(m.requestId)) return undefined;
      const out: FromWebview = { type: 'exportChart', chartId: m.chartId, format: m.format, data: m.data };
      if (m.requestId !== undefined) out.requestId = m.requestId as number;
      return out;
    }
    case 'rendered': {
      if (typeof m.ms !== 'number' || !Number.isFinite(m.ms)) return undefined;
      if (!Array.isArray(m.charts) || m.charts.length > 2000) return undefined;
      const charts: RenderedChart[] = [];
      for (const c of m.charts as unknown[]) {
        if (!isObject(c) || !isChartId(c.id) || !isCount(c.series)) return undefined;
        if (c.kind !== 'line' && c.kind !== 'bar' && c.kind !== 'parallel' && c.kind !== 'scatter') return undefined;
        charts.push({ id: c.id, kind: c.kind, series: c.series });
      }
      return parseRendered(m, { charts, ms: m.ms });
    }
    case 'appended': {
      if (!isCount(m.version) || !isRunId(m.runId) || !isText(m.metric, 1000) || !isCount(m.points)) return undefined;
      const errors = errorsOf(m.errors);
      if (errors === false) return undefined;
      const out: FromWebview = { type: 'appended', version: m.version, runId: m.runId, metric: m.metric, points: m.points };
      if (errors) out.errors = errors;
      return out;
    }
    default:
      return undefined;
  }
}

/** What the webview keeps across reloads (vscodeApi.setState) and the serializer gets back. */
export interface CompareWebviewState {
  folder: string;
  runIds: string[];
  view?: CompareView;
}

export function parseWebviewState(state: unknown): CompareWebviewState | undefined {
  if (!isObject(state)) return undefined;
  const s = state;
  if (!isText(s.folder) || !Array.isArray(s.runIds) || s.runIds.length === 0 || s.runIds.length > 1000 || !s.runIds.every(isRunId)) return undefined;
  const out: CompareWebviewState = { folder: s.folder, runIds: (s.runIds as string[]).slice() };
  const view = s.view === undefined ? undefined : parseView(s.view);
  if (view) out.view = view;
  return out;
}

/**
 * The page of the compare panel (the host adds the CSP, nonce and bundle links; the toolkit's web components use
 * constructable stylesheets, which style-src does not govern). Here (pure) so the browser test and the benchmark
 * load the very page the panel serves.
 */
export function comparePage(folder: string, runIds: readonly string[]): PageContent {
  return {
    bundle: 'compare',
    title: 'Compare Runs',
    data: { folder: encodeURIComponent(folder), 'run-ids': runIds.join(',') },
    loading: `Loading ${runIds.length} runs…`,
  };
}
