/**
 * Builds the Run details webview state from what is on disk (run record, tracking events, outputs listing).
 * Pure: no vscode, no I/O, so it runs under plain mocha (test/unit/runDetailsData.test.ts).
 */
import { RunRecord, durationMs, isTerminal } from '../../model/runs/run';
import { formatDuration } from '../../model/common/format';
import type { MetricPoint, TrackingData } from '../../model/runs/trackingEvents';
import type { OutputEntry } from '../../runner/artifacts';
import type { DeletedRunState, MetricSummary, OutputPreview, RunDetailsState, TimelineEntry } from './runDetails';
import { displayValue as display, ownEntries as entries, toDisplayNumber } from './common';
import { resolveGoal } from './compareData';

/** Most points a metric's series gets (its step chart and sparkline draw it); longer series are downsampled. */
export const MAX_SPARKLINE_POINTS = 1000;

export interface RunDetailsExtra {
  /** Workspace folder URI (string) and name. */
  folder: string;
  folderName: string;
  hasPatch: boolean;
  hasBuildLog: boolean;
  hasLogs: boolean;
  /** Whether the environment file is in the run's snapshot (so it can be opened). */
  environmentFileAvailable: boolean;
  skippedOutputs?: { path: string; reason: string }[];
  maxPoints?: number;
  /** `mlw.metricGoals`: {name: 'max' | 'min'}. */
  settingGoals?: Record<string, unknown>;
  /** The last traceback in the logs (shown for a failed run). */
  traceback?: string;
  previews?: OutputPreview[];
}

/**
 * At most `max` points of a series, in order: the first and the last, and for each of equal buckets in between
 * its minimum and its maximum, so peaks and troughs (and the overall extremes) survive. `max` below 4 is taken as 4.
 */
export function downsample<T extends { y: number }>(points: readonly T[], max = MAX_SPARKLINE_POINTS): T[] {
  const limit = Math.max(4, Math.floor(max));
  if (points.length <= limit) return points.slice();
  const inner = points.length - 2;
  const buckets = Math.floor((limit - 2) / 2);
  const keep: number[] = [0];
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor((b * inner) / buckets);
    const to = 1 + Math.floor(((b + 1) * inner) / buckets); // exclusive
    if (from >= to) continue;
    let lo = from;
    let hi = from;
    for (let i = from + 1; i < to; i++) {
      if (points[i].y < points[lo].y) lo = i;
      if (points[i].y > points[hi].y) hi = i;
    }
    if (lo === hi) keep.push(lo);
    else keep.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  keep.push(points.length - 1);
  return keep.map((i) => points[i]);
}

export function summarizeMetric(
  name: string,
  points: readonly MetricPoint[],
  goal: 'max' | 'min' | undefined,
  maxPoints = MAX_SPARKLINE_POINTS,
  goalSource?: MetricSummary['goalSource'],
): MetricSummary {
  const byStep = points.length > 0 && points.every((p) => p.step !== null);
  const finite: { x: number; y: number }[] = [];
  let min: number | undefined;
  let max: number | undefined;
  points.forEach((p, i) => {
    if (!Number.isFinite(p.value)) return;
    finite.push({ x: byStep ? (p.step as number) : i, y: p.value });
    if (min === undefined || p.value < min) min = p.value;
    if (max === undefined || p.value > max) max = p.value;
  });
  const summary: MetricSummary = {
    name,
    last: toDisplayNumber(points.length ? points[points.length - 1].value : NaN),
    points: points.length,
    series: downsample(finite, maxPoints),
    xKind: byStep ? 'step' : 'index',
  };
  if (min !== undefined) summary.min = min;
  if (max !== undefined) summary.max = max;
  if (goal) {
    summary.goal = goal;
    if (goalSource) summary.goalSource = goalSource;
    const best = goal === 'max' ? max : min;
    if (best !== undefined) summary.best = best;
  }
  return summary;
}


export function buildTimeline(run: RunRecord): TimelineEntry[] {
  const created = Date.parse(run.createdAt);
  const out: TimelineEntry[] = [{ label: 'Created', at: run.createdAt, offsetMs: 0 }];
  if (run.startedAt) out.push({ label: 'Started', at: run.startedAt, offsetMs: Math.max(0, Date.parse(run.startedAt) - created) });
  if (run.endedAt) out.push({ label: 'Ended', at: run.endedAt, offsetMs: Math.max(0, Date.parse(run.endedAt) - created) });
  return out;
}

export function runTitle(run: RunRecord): string {
  return `Run ${run.id.slice(-4)} — ${run.script}`;
}

/**
 * The full state the webview renders. Tracking is the source of metrics series, params and tags; the run
 * record's final values fill in when there is no tracking file (a run from before tracking, or one whose events
 * were lost).
 */
export function buildRunDetailsState(run: RunRecord, tracking: TrackingData, outputs: readonly OutputEntry[], extra: RunDetailsExtra): RunDetailsState {
  const maxPoints = extra.maxPoints ?? MAX_SPARKLINE_POINTS;
  const metrics: MetricSummary[] = [];
  const summarize = (name: string, points: readonly MetricPoint[]): MetricSummary => {
    const { goal, source } = resolveGoal(name, [tracking.goals], extra.settingGoals);
    return summarizeMetric(name, points, goal, maxPoints, source === 'tracking' ? 'script' : source === 'setting' ? 'setting' : 'inferred');
  };
  for (const [name, points] of entries(tracking.metrics)) metrics.push(summarize(name, points));
  for (const [name, value] of entries(run.metrics)) {
    if (metrics.some((m) => m.name === name)) continue;
    metrics.push(summarize(name, [{ step: null, value, t: 0 }]));
  }
  const params = new Map<string, unknown>(entries(run.params));
  for (const [name, value] of entries(tracking.params)) params.set(name, value);
  const tags = new Map<string, string>(entries(run.tags));
  for (const [name, value] of entries(tracking.tags)) tags.set(name, value);

  // Only a run that ended has a duration here: a live one's grows every second, and putting it in the state
  // would make every refresh a change. The webview counts it up from startedAt instead.
  const ms = run.endedAt ? durationMs(run) : undefined;
  const summary: RunDetailsState['summary'] = {
    status: run.status,
    terminal: isTerminal(run.status),
    script: run.script,
    args: run.args.slice(),
    createdAt: run.createdAt,
    duration: formatDuration(ms),
  };
  if (run.reason) summary.reason = run.reason;
  if (run.status === 'Failed' && extra.traceback) summary.traceback = extra.traceback;
  if (run.options?.configName) summary.configName = run.options.configName;
  if (run.startedAt) summary.startedAt = run.startedAt;
  if (run.endedAt) summary.endedAt = run.endedAt;
  if (ms !== undefined) summary.durationMs = ms;
  if (run.exitCode !== undefined) summary.exitCode = run.exitCode;
  if (run.parentId) summary.parentId = run.parentId;
  if (run.name) summary.name = run.name;
  if (run.labels?.length) summary.labels = run.labels.slice();
  if (run.starred) summary.starred = true;

  const state: RunDetailsState = {
    runId: run.id,
    shortId: run.id.slice(-4),
    folder: extra.folder,
    folderName: extra.folderName,
    title: runTitle(run),
    summary,
    params: [...params].map(([name, value]) => ({ name, value: display(value) })),
    tags: [...tags].map(([name, value]) => ({ name, value })),
    metrics,
    outputs: outputs.map((o) => ({ path: o.rel, size: o.size })),
    previews: extra.previews?.slice() ?? [],
    skippedOutputs: extra.skippedOutputs?.slice() ?? [],
    hasBuildLog: extra.hasBuildLog,
    hasLogs: extra.hasLogs,
    timeline: buildTimeline(run),
    trackingSkippedLines: tracking.skippedLines,
  };
  if (run.git) {
    state.git = {
      commit: run.git.commit,
      branch: run.git.branch,
      dirty: run.git.dirty,
      untracked: run.git.untracked?.slice() ?? [],
      hasPatch: extra.hasPatch,
    };
    if (run.git.remote) state.git.remote = run.git.remote;
  }
  if (run.environment) state.environment = { ...run.environment, fileAvailable: extra.environmentFileAvailable };
  return state;
}

/** The state of a panel whose run was deleted: its id and folder, and nothing else of it. */
export function deletedRunState(runId: string, folder: string, folderName: string): DeletedRunState {
  return {
    deleted: true,
    runId,
    folder,
    folderName,
    title: `Run ${runId.slice(-4)} (deleted)`,
    message: `Run ${runId} was deleted from ${folderName}: there is nothing left to show. Close this panel, or open another run from the Runs view.`,
  };
}
