// Browser side of the Run details webview. Renders the state the extension pushes (see
// src/views/protocol/runDetails.ts) and sends intents back; it never reads files or decides anything itself.
import './styles.css';
import type { FromWebview, MetricSummary, RunDetailsState, RunDetailsWebviewState, ToWebview } from '../../src/views/protocol/runDetails';
import { fromDisplayNumber } from '../../src/views/protocol/common';
import { formatBytes, formatDuration, formatNumber } from '../../src/model/common/format';
import { bootstrap } from '../shared/bootstrap';
import { Child, append, button, byTestId, h, link } from '../shared/dom';
import { TopLevelSpec, chartTheme, onThemeChange, renderVegaLite } from '../shared/vega';
import { vscodeApi } from '../shared/host';

const { app, send, takeViolations } = bootstrap<ToWebview, FromWebview>('run details', () => ({
  state: (msg) => {
    current = { version: msg.version, state: msg.state };
    vscodeApi.setState({ runId: msg.state.runId, folder: msg.state.folder } satisfies RunDetailsWebviewState);
    void render();
  },
}));

// What the serializer gets back after a reload: enough to reopen the same run.
const initial: RunDetailsWebviewState = { runId: app.dataset.runId ?? '', folder: decodeURIComponent(app.dataset.folder ?? '') };
if (initial.runId) vscodeApi.setState(initial);

let current: { version: number; state: RunDetailsState } | undefined;
let renderGeneration = 0;
const views: { finalize(): void }[] = [];
let ticker: ReturnType<typeof setInterval> | undefined;

// ---------- formatting ----------

function formatDate(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
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
  rows.push(['Status', [statusBadge(s), s.reason ? h('span', { class: 'reason' }, ` ${s.reason}`) : null]]);
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
  const actions = h(
    'div',
    { class: 'actions' },
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

function renderMetrics(state: RunDetailsState, charts: { el: HTMLElement; metric: MetricSummary }[]): HTMLElement {
  if (!state.metrics.length) return section('Metrics', 'metrics', muted('No metrics logged (mlw.log_metric).'));
  const rows = state.metrics.map((m) => {
    const spark = h('div', { class: 'sparkline', testId: `sparkline:${m.name}`, title: `${m.points} point(s)${m.series.length < m.points ? `, ${m.series.length} drawn` : ''}` });
    if (m.series.length) charts.push({ el: spark, metric: m });
    const goal = m.goal ? `${m.goal === 'max' ? '↑ max' : '↓ min'}${m.best !== undefined ? ` (best ${formatNumber(m.best)})` : ''}` : '';
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
  return section('Metrics', 'metrics', table(['Metric', 'Final', 'Min', 'Max', 'Points', 'Goal', ''], rows, { numeric: [1, 2, 3, 4], testId: 'metrics-table' }), skipped);
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

async function render(): Promise<void> {
  if (!current) return;
  const { version, state } = current;
  const generation = ++renderGeneration;
  for (const v of views.splice(0)) v.finalize();
  const charts: { el: HTMLElement; metric: MetricSummary }[] = [];
  const page = h(
    'div',
    { class: 'page' },
    renderSummary(state),
    renderMetrics(state, charts),
    renderParams(state),
    renderOutputs(state),
    renderGit(state),
    renderEnvironment(state),
    renderTimeline(state),
  );
  app.replaceChildren(page);
  startTicker(state);
  const { drawn, errors } = await drawSparklines(charts, generation);
  if (generation !== renderGeneration) return;
  send({ type: 'rendered', sparklines: drawn, version, errors: [...errors, ...takeViolations()] });
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
