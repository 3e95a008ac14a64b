// Browser side of the Run details webview. Renders the state the extension pushes (see
// src/views/protocol/runDetails.ts) and sends intents back; it never reads files or decides anything itself.
import './styles.css';
import type { DeletedRunState, FromWebview, MetricSummary, OutputPreview, RunAction, RunDetailsState, RunDetailsView, RunDetailsWebviewState, ToWebview } from '../../src/views/protocol/runDetails';
import { isDeletedRun } from '../../src/views/protocol/runDetails';
import { fromDisplayNumber } from '../../src/views/protocol/common';
import { formatBytes, formatDate as formatWhen, formatDuration, formatNumber } from '../../src/model/common/format';
import { drawStepChart } from './stepChart';
import { bootstrap } from '../shared/bootstrap';
import { Child, append, button, byTestId, h, link } from '../shared/dom';
import { TopLevelSpec, chartTheme, onThemeChange, renderVegaLite } from '../shared/vega';
import { vscodeApi } from '../shared/host';

const { app, send, takeViolations } = bootstrap<ToWebview, FromWebview>('run details', () => ({
  state: (msg) => {
    current = { version: msg.version, state: msg.state };
    // A deleted run's panel keeps no state: after a reload there is nothing to restore.
    vscodeApi.setState(isDeletedRun(msg.state) ? undefined : ({ runId: msg.state.runId, folder: msg.state.folder } satisfies RunDetailsWebviewState));
    void render();
  },
}));

// What the serializer gets back after a reload: enough to reopen the same run.
const initial: RunDetailsWebviewState = { runId: app.dataset.runId ?? '', folder: decodeURIComponent(app.dataset.folder ?? '') };
if (initial.runId) vscodeApi.setState(initial);

let current: { version: number; state: RunDetailsView } | undefined;
let renderGeneration = 0;
const views: { finalize(): void }[] = [];
let ticker: ReturnType<typeof setInterval> | undefined;

// ---------- formatting ----------

function formatDate(iso: string | undefined): string {
  return formatWhen(iso, { seconds: true }) || '—';
}

// ---------- building blocks ----------

function section(title: string, testId: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'section', testId }, h('h2', null, title), ...children);
}

function keyValues(rows: [string, Child | Child[]][]): HTMLElement {
  const table = h('table', { class: 'kv' });
  for (const [key, value] of rows) {
    const cell = h('td');
    append(cell, ...(Array.isArray(value) ? value : [value]));
    table.appendChild(h('tr', null, h('th', { scope: 'row' }, key), cell));
  }
  return table;
}

function table(headers: string[], rows: Child[][], options: { numeric?: number[]; testId?: string } = {}): HTMLElement {
  const head = h('tr', null, ...headers.map((t, i) => h('th', { class: options.numeric?.includes(i) ? 'num' : undefined }, t)));
  const body = rows.map((cells) => h('tr', null, ...cells.map((c, i) => h('td', { class: options.numeric?.includes(i) ? 'num' : undefined }, c))));
  return h('table', { class: 'grid', testId: options.testId }, h('thead', null, head), h('tbody', null, ...body));
}

function muted(text: string): HTMLElement {
  return h('p', { class: 'muted' }, text);
}

function code(text: string): HTMLElement {
  return h('code', null, text);
}

// ---------- sections ----------

function statusBadge(s: RunDetailsState['summary']): HTMLElement {
  return h('span', { class: `badge status-${s.status.toLowerCase()}`, testId: 'status' }, s.status);
}

function renderSummary(state: RunDetailsState): HTMLElement {
  const s = state.summary;
  const rows: [string, Child | Child[]][] = [];
  rows.push(['Status', [statusBadge(s), s.reason ? h('span', { class: 'reason', testId: 'reason' }, ` ${s.reason}`) : null]]);
  if (s.traceback) rows.push(['Traceback', h('pre', { class: 'traceback', testId: 'traceback' }, s.traceback)]);
  rows.push(['Script', [code(s.script), s.args.length ? h('span', null, ' ', code(s.args.join(' '))) : null]]);
  if (s.configName) rows.push(['Run configuration', s.configName]);
  rows.push(['Created', formatDate(s.createdAt)]);
  rows.push(['Started', formatDate(s.startedAt)]);
  rows.push(['Ended', s.endedAt ? formatDate(s.endedAt) : s.terminal ? '—' : 'still running']);
  const live = !s.terminal && s.startedAt ? formatDuration(Date.now() - Date.parse(s.startedAt)) : '';
  rows.push(['Duration', h('span', { testId: 'duration' }, s.duration || live || '—')]);
  if (s.exitCode !== undefined) rows.push(['Exit code', String(s.exitCode)]);
  if (s.parentId) {
    const parentId = s.parentId;
    rows.push(['Rerun of', link(parentId, () => send({ type: 'openRun', id: parentId }), { testId: `open-run:${parentId}`, title: 'Open the details of the parent run' })]);
  }
  if (state.tags.length) rows.push(['Tags', state.tags.map((t) => h('span', { class: 'chip' }, `${t.name}: ${t.value}`))]);
  if (s.labels?.length) rows.push(['Labels', s.labels.map((l) => h('span', { class: 'chip' }, l))]);
  rows.push(['Folder', state.folderName]);
  rows.push(['Run id', code(state.runId)]);
  const heading = h('h1', null, s.starred ? h('span', { class: 'star', title: 'Starred' }, '★ ') : null, s.name ?? `Run ${state.shortId}`, h('span', { class: 'muted' }, ` — ${s.script}`));
  const act = (label: string, action: RunAction, secondary = true) => button(label, () => send({ type: 'runAction', action }), { testId: `action:${action}`, secondary });
  const actions = h(
    'div',
    { class: 'actions', testId: 'actions' },
    s.terminal ? null : act('Cancel', 'cancel', false),
    s.terminal ? act('Rerun', 'rerun', false) : null,
    s.terminal ? act('Modify and Rerun…', 'modifyAndRerun') : null,
    s.starred ? act('Unstar', 'unstar') : act('Star', 'star'),
    // The command refuses to delete a run still going (its container is in use): offered once it ended.
    s.terminal ? act('Delete…', 'delete') : null,
    state.hasLogs ? button('Open Logs', () => send({ type: 'openFile', which: 'logs' }), { testId: 'open-logs', secondary: true }) : null,
  );
  return h('header', { class: 'summary', testId: 'summary' }, heading, keyValues(rows), actions);
}

function renderParams(state: RunDetailsState): HTMLElement {
  if (!state.params.length) return section('Parameters', 'params', muted('No parameters logged (mlw.log_params).'));
  return section('Parameters', 'params', table(['Name', 'Value'], state.params.map((p) => [p.name, code(p.value)]), { testId: 'params-table' }));
}

function sparklineSpec(m: MetricSummary): TopLevelSpec {
  const theme = chartTheme();
  const last = m.series[m.series.length - 1];
  const x = { field: 'x', type: 'quantitative' as const, axis: null, scale: { zero: false, nice: false } };
  const y = { field: 'y', type: 'quantitative' as const, axis: null, scale: { zero: false, nice: false } };
  return {
    width: 140,
    height: 28,
    padding: 3,
    background: 'transparent',
    config: { view: { stroke: null }, font: theme.font },
    layer: [
      {
        data: { values: m.series },
        mark: { type: 'line', color: theme.line, strokeWidth: 1.5, interpolate: 'linear' },
        encoding: { x, y },
      },
      {
        data: { values: last ? [last] : [] },
        mark: { type: 'point', filled: true, size: 24, color: theme.accent },
        encoding: {
          x,
          y,
          tooltip: [
            { field: 'x', type: 'quantitative', title: m.xKind },
            { field: 'y', type: 'quantitative', title: m.name },
          ],
        },
      },
    ],
  };
}

const GOAL_SOURCE: Record<NonNullable<MetricSummary['goalSource']>, string> = {
  script: '',
  setting: ' (mlw.metricGoals)',
  inferred: ' (inferred)',
};

function goalText(m: MetricSummary): string {
  if (!m.goal) return '';
  const best = m.best !== undefined ? ` best ${formatNumber(m.best)}` : '';
  return `${m.goal === 'max' ? '↑ max' : '↓ min'}${m.goalSource ? GOAL_SOURCE[m.goalSource] : ''}${best}`;
}

function renderCharts(state: RunDetailsState, charts: { el: HTMLElement; metric: MetricSummary }[]): HTMLElement | null {
  const drawable = state.metrics.filter((m) => m.series.length > 0);
  if (!drawable.length) return null;
  const figures = drawable.map((m) => {
    const el = h('div', { class: 'chart', testId: `chart:${m.name}` });
    charts.push({ el, metric: m });
    return h('figure', { class: 'chart-figure' }, h('figcaption', null, m.name, h('span', { class: 'muted' }, ` — ${state.summary.terminal ? 'final' : 'latest'} ${formatNumber(fromDisplayNumber(m.last))}`)), el);
  });
  return section('Charts', 'charts', h('div', { class: 'charts' }, ...figures));
}

function renderMetrics(state: RunDetailsState, charts: { el: HTMLElement; metric: MetricSummary }[]): HTMLElement {
  if (!state.metrics.length) return section('Metrics', 'metrics', muted('No metrics logged (mlw.log_metric).'));
  const rows = state.metrics.map((m) => {
    const spark = h('div', { class: 'sparkline', testId: `sparkline:${m.name}`, title: `${m.points} point(s)${m.series.length < m.points ? `, ${m.series.length} drawn` : ''}` });
    if (m.series.length) charts.push({ el: spark, metric: m });
    const goal = h('span', { testId: `goal:${m.name}`, title: m.goalSource === 'inferred' ? 'Not set by the script: inferred from the name (loss/error… lower is better, else higher)' : undefined }, goalText(m));
    return [
      m.name,
      formatNumber(fromDisplayNumber(m.last)),
      m.min === undefined ? '—' : formatNumber(m.min),
      m.max === undefined ? '—' : formatNumber(m.max),
      String(m.points),
      goal,
      spark,
    ] as Child[];
  });
  const skipped = state.trackingSkippedLines ? muted(`${state.trackingSkippedLines} line(s) of events.jsonl were not valid events and were skipped.`) : null;
  return section('Metrics', 'metrics', table(['Metric', state.summary.terminal ? 'Final' : 'Latest', 'Min', 'Max', 'Points', 'Goal', ''], rows, { numeric: [1, 2, 3, 4], testId: 'metrics-table' }), skipped);
}

function renderOutputs(state: RunDetailsState): HTMLElement {
  const skipped = state.skippedOutputs.length
    ? h('details', null, h('summary', null, `${state.skippedOutputs.length} entr${state.skippedOutputs.length === 1 ? 'y' : 'ies'} left out`), h('ul', null, ...state.skippedOutputs.map((s) => h('li', null, code(s.path), ` — ${s.reason}`))))
    : null;
  if (!state.outputs.length) return section('Outputs', 'outputs', muted('No outputs (files the script writes to $MLW_OUTPUTS appear here).'), skipped);
  const rows = state.outputs.map((o) => [
    code(o.path),
    formatBytes(o.size),
    h(
      'span',
      { class: 'row-actions' },
      button('Open', () => send({ type: 'openOutput', path: o.path }), { testId: `open-output:${o.path}`, secondary: true }),
      button('Reveal', () => send({ type: 'revealOutput', path: o.path }), { testId: `reveal-output:${o.path}`, secondary: true }),
    ),
  ]);
  return section('Outputs', 'outputs', table(['File', 'Size', ''], rows, { numeric: [1], testId: 'outputs-table' }), skipped);
}

function renderPreview(p: OutputPreview, images: HTMLImageElement[]): HTMLElement {
  const caption = h('figcaption', null, code(p.path), h('span', { class: 'muted' }, ` ${formatBytes(p.size)}`));
  if (p.kind === 'image') {
    // Only as an <img>: an SVG shown this way runs no script and loads nothing.
    const img = h('img', { src: p.src, alt: p.path, class: 'preview-image', testId: `image:${p.path}` });
    images.push(img);
    return h('figure', { class: 'preview' }, caption, img);
  }
  if (p.kind === 'table') {
    const t = table(p.columns, p.rows, { testId: `table:${p.path}` });
    return h('figure', { class: 'preview' }, caption, h('div', { class: 'table-scroll' }, t), p.truncated ? muted('First rows and columns only.') : null);
  }
  return h('figure', { class: 'preview listed', testId: `listed:${p.path}` }, caption, muted(`Not previewed: ${p.reason}.`));
}

function renderPreviews(state: RunDetailsState, images: HTMLImageElement[]): HTMLElement | null {
  if (!state.previews.length) return null;
  return section('Output previews', 'previews', h('div', { class: 'previews' }, ...state.previews.map((p) => renderPreview(p, images))));
}

function renderGit(state: RunDetailsState): HTMLElement {
  const g = state.git;
  if (!g) return section('Code', 'git', muted('No git lineage (the workspace was not a git repository).'), button('Show Diff with Workspace', () => send({ type: 'showDiff' }), { testId: 'show-diff', secondary: true }));
  const rows: [string, Child | Child[]][] = [
    ['Commit', code(g.commit)],
    ['Branch', g.branch],
  ];
  if (g.remote) rows.push(['Remote', g.remote]);
  rows.push(['Uncommitted changes', g.dirty ? 'yes' : 'no']);
  if (g.untracked.length) rows.push(['Untracked files', h('ul', { class: 'plain' }, ...g.untracked.slice(0, 50).map((f) => h('li', null, code(f)))), ]);
  const actions = h(
    'div',
    { class: 'actions' },
    button('Show Diff with Workspace', () => send({ type: 'showDiff' }), { testId: 'show-diff' }),
    g.hasPatch ? button('Open Patch', () => send({ type: 'openFile', which: 'patch' }), { testId: 'open-patch', secondary: true }) : null,
  );
  return section('Code', 'git', keyValues(rows), actions);
}

const ENV_KIND: Record<string, string> = {
  image: 'explicit image',
  dockerfile: 'Dockerfile',
  conda: 'conda environment',
  requirements: 'requirements.txt on the base image',
  base: 'base image alone',
};

function renderEnvironment(state: RunDetailsState): HTMLElement {
  const e = state.environment;
  const buildLog = state.hasBuildLog ? button('Open Build Log', () => send({ type: 'openFile', which: 'buildLog' }), { testId: 'open-build-log', secondary: true }) : null;
  if (!e) return section('Environment', 'environment', muted('Not resolved yet.'), buildLog);
  const rows: [string, Child | Child[]][] = [
    ['Kind', ENV_KIND[e.kind] ?? e.kind],
    ['Image', code(e.imageTag)],
    ['Image id', code(e.imageId)],
  ];
  if (e.baseImage) rows.push(['Base image', code(e.baseImage)]);
  if (e.file) {
    const file = e.file;
    rows.push(['File', e.fileAvailable ? link(file, () => send({ type: 'openFile', which: 'environmentFile' }), { testId: 'open-environment-file', title: "Open the file as it was in the run's snapshot" }) : code(file)]);
  }
  rows.push(['Built for this run', e.built ? 'yes' : 'no (cached image)']);
  return section('Environment', 'environment', keyValues(rows), h('div', { class: 'actions' }, buildLog));
}

function renderTimeline(state: RunDetailsState): HTMLElement {
  const entries = state.timeline;
  const total = Math.max(1, ...entries.map((e) => e.offsetMs));
  const list = h(
    'ol',
    { class: 'timeline' },
    ...entries.map((e, i) => {
      const bar = h('span', { class: `bar bar-${e.label.toLowerCase()}` });
      // CSSOM, not a style attribute: allowed by the CSP.
      bar.style.width = `${Math.round((e.offsetMs / total) * 100)}%`;
      const delta = i > 0 ? ` (+${formatDuration(e.offsetMs - entries[i - 1].offsetMs)})` : '';
      return h('li', null, h('span', { class: 'when' }, h('strong', null, e.label), ` ${formatDate(e.at)}`, h('span', { class: 'muted' }, delta)), h('span', { class: 'track' }, bar));
    }),
  );
  const pending = !state.summary.terminal ? muted(state.summary.startedAt ? 'Running…' : 'Waiting to start…') : null;
  return section('Timeline', 'timeline', list, pending);
}

// ---------- rendering ----------

async function drawSparklines(charts: { el: HTMLElement; metric: MetricSummary }[], generation: number): Promise<{ drawn: number; errors: string[] }> {
  const errors: string[] = [];
  let drawn = 0;
  await Promise.all(
    charts.map(async ({ el, metric }) => {
      try {
        const view = await renderVegaLite(el, sparklineSpec(metric));
        if (generation !== renderGeneration) {
          view.finalize();
          return;
        }
        views.push(view);
        if (el.querySelector('svg')) drawn++;
        else errors.push(`sparkline of ${metric.name}: nothing drawn`);
      } catch (err) {
        errors.push(`sparkline of ${metric.name}: ${(err as Error).message ?? err}`);
      }
    }),
  );
  return { drawn, errors };
}

function renderDeleted(version: number, state: DeletedRunState): void {
  if (ticker) clearInterval(ticker);
  ticker = undefined;
  app.replaceChildren(h('div', { class: 'page deleted', testId: 'deleted' }, h('h1', null, `Run ${state.runId.slice(-4)}`), h('p', { testId: 'deleted-message' }, state.message)));
  send({ type: 'rendered', sparklines: 0, charts: 0, images: 0, version, errors: takeViolations() });
}

function drawCharts(charts: { el: HTMLElement; metric: MetricSummary }[]): { drawn: number; errors: string[] } {
  const theme = chartTheme();
  let drawn = 0;
  const errors: string[] = [];
  for (const { el, metric } of charts) {
    try {
      drawStepChart(el, metric.series, { color: theme.line, muted: theme.muted, xLabel: metric.xKind, name: metric.name });
      drawn++;
    } catch (err) {
      errors.push(`chart of ${metric.name}: ${(err as Error).message ?? err}`);
    }
  }
  return { drawn, errors };
}

/** How many images decoded (an image the browser cannot show counts as an error). */
async function loadedImages(images: HTMLImageElement[]): Promise<{ shown: number; errors: string[] }> {
  const results = await Promise.all(images.map((img) => img.decode().then(() => true, () => false)));
  return { shown: results.filter(Boolean).length, errors: images.filter((_, i) => !results[i]).map((img) => `image ${img.alt} could not be shown`) };
}

async function render(): Promise<void> {
  if (!current) return;
  const { version } = current;
  const generation = ++renderGeneration;
  for (const v of views.splice(0)) v.finalize();
  if (isDeletedRun(current.state)) return renderDeleted(version, current.state);
  const state = current.state;
  const charts: { el: HTMLElement; metric: MetricSummary }[] = [];
  const stepCharts: { el: HTMLElement; metric: MetricSummary }[] = [];
  const images: HTMLImageElement[] = [];
  const page = h(
    'div',
    { class: 'page' },
    renderSummary(state),
    renderMetrics(state, charts),
    renderCharts(state, stepCharts),
    renderParams(state),
    renderOutputs(state),
    renderPreviews(state, images),
    renderGit(state),
    renderEnvironment(state),
    renderTimeline(state),
  );
  app.replaceChildren(page);
  startTicker(state);
  const full = drawCharts(stepCharts);
  const [{ drawn, errors }, shown] = await Promise.all([drawSparklines(charts, generation), loadedImages(images)]);
  if (generation !== renderGeneration) return;
  send({ type: 'rendered', sparklines: drawn, charts: full.drawn, images: shown.shown, version, errors: [...errors, ...full.errors, ...shown.errors, ...takeViolations()] });
}

/** While the run is going, the duration counts up here between state pushes. */
function startTicker(state: RunDetailsState): void {
  if (ticker) clearInterval(ticker);
  ticker = undefined;
  const started = state.summary.startedAt;
  if (state.summary.terminal || !started) return;
  ticker = setInterval(() => {
    const el = byTestId('duration');
    if (el) el.textContent = formatDuration(Date.now() - Date.parse(started));
  }, 1000);
}

onThemeChange(() => void render());
