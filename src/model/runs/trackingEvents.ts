/**
 * What a run's script logged with the `mlw` Python module (python/mlw), as data: the event types of
 * `events.jsonl`, parsing one line, and folding events into per-metric series. Pure and free of node: the
 * webview contracts import these types. Reading the file is tracking.ts.
 */
export const TRACKING_FILE = 'events.jsonl';

export type MetricGoal = 'max' | 'min';

export type TrackingEvent =
  | { kind: 'metric'; name: string; value: number; step: number | null; t: number; goal?: MetricGoal }
  | { kind: 'param'; name: string; value: unknown; t: number }
  | { kind: 'tag'; name: string; value: string; t: number }
  | { kind: 'artifact'; path: string; t: number };

export interface MetricPoint {
  step: number | null;
  value: number;
  t: number;
}

export interface TrackingData {
  /** Points per metric, in the order they were logged. */
  metrics: Record<string, MetricPoint[]>;
  /** Last value logged per parameter. */
  params: Record<string, unknown>;
  tags: Record<string, string>;
  /** Paths relative to the run's outputs folder, forward slashes, each once, in the order first logged. */
  artifacts: string[];
  /** Which direction is better, for metrics logged with a goal (the last goal given wins). */
  goals: Record<string, MetricGoal>;
  /** Complete lines that were not valid events (a torn last line is not counted: it is just not finished). */
  skippedLines: number;
  /** Why the tracking file was not (fully) read: not a regular file (a link, a FIFO), or over the size bound. */
  unreadable?: string;
}

export function emptyTracking(): TrackingData {
  return { metrics: {}, params: {}, tags: {}, artifacts: [], goals: {}, skippedLines: 0 };
}

// Strict JSON has no NaN or Infinity; the writer spells them as strings.
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** One line of events.jsonl as an event, or undefined when it is not one (bad JSON, unknown kind, wrong shape). */
export function parseTrackingEvent(line: string): TrackingEvent | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const e = o as Record<string, unknown>;
  const t = e.t;
  if (typeof t !== 'number' || !Number.isFinite(t)) return undefined;
  switch (e.kind) {
    case 'metric': {
      const value = typeof e.value === 'number' ? e.value : typeof e.value === 'string' && Object.hasOwn(NON_FINITE, e.value) ? NON_FINITE[e.value] : undefined;
      const step = e.step ?? null;
      if (!isName(e.name) || value === undefined) return undefined;
      if (step !== null && !(typeof step === 'number' && Number.isInteger(step))) return undefined;
      if (e.goal !== undefined && e.goal !== 'max' && e.goal !== 'min') return undefined;
      return e.goal ? { kind: 'metric', name: e.name, value, step, t, goal: e.goal } : { kind: 'metric', name: e.name, value, step, t };
    }
    case 'param':
      return isName(e.name) && 'value' in e ? { kind: 'param', name: e.name, value: e.value, t } : undefined;
    case 'tag':
      return isName(e.name) && typeof e.value === 'string' ? { kind: 'tag', name: e.name, value: e.value, t } : undefined;
    case 'artifact':
      return isName(e.path) ? { kind: 'artifact', path: e.path, t } : undefined;
    default:
      return undefined;
  }
}

/**
 * Names come from the script, so they may be "__proto__" or "constructor": records are only ever read and
 * written as own properties, never through the prototype chain.
 */
function getOwn<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Folds events into data, in order (mutating and returning it, so a live view can apply each poll's events). */
export function applyEvents(data: TrackingData, events: readonly TrackingEvent[]): TrackingData {
  for (const e of events) {
    switch (e.kind) {
      case 'metric': {
        const point: MetricPoint = { step: e.step, value: e.value, t: e.t };
        const series = getOwn(data.metrics, e.name);
        if (series) series.push(point);
        else setOwn(data.metrics, e.name, [point]);
        if (e.goal) setOwn(data.goals, e.name, e.goal);
        break;
      }
      case 'param':
        setOwn(data.params, e.name, e.value);
        break;
      case 'tag':
        setOwn(data.tags, e.name, e.value);
        break;
      case 'artifact':
        // Logging the same path again (a checkpoint overwritten each epoch) is still one artifact.
        if (!data.artifacts.includes(e.path)) data.artifacts.push(e.path);
        break;
    }
  }
  return data;
}

/** The last value logged for each metric (by arrival order, not by step). */
export function finalMetrics(data: TrackingData): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, points] of Object.entries(data.metrics)) {
    if (points.length) setOwn(out, name, points[points.length - 1].value);
  }
  return out;
}
