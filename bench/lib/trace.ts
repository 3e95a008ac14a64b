import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';

/**
 * In-place timing of one submission, without touching the runner's source: Docker API calls are timed at
 * the modem, module functions by swapping their exports, RunStore writes by wrapping the instance. Each
 * span is relative to `reset()`, which the caller invokes right before `submit`.
 */
export interface Span {
  phase: string;
  start: number;
  end: number;
}

export class Tracer {
  spans: Span[] = [];
  private origin = performance.now();

  reset(): void {
    this.spans = [];
    this.origin = performance.now();
  }

  now(): number {
    return performance.now() - this.origin;
  }

  record(phase: string, start: number): void {
    this.spans.push({ phase, start, end: this.now() });
  }

  /** Wraps a function so each call becomes a span (until its promise settles, for async functions). */
  wrap<A extends unknown[], R>(phase: string, fn: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      const start = this.now();
      const result = fn(...args);
      if (result instanceof Promise) {
        return result.finally(() => this.record(phase, start)) as R;
      }
      this.record(phase, start);
      return result;
    };
  }
}

/** Names Docker API calls after the runner phases they belong to. */
function dockerPhase(method: string, urlPath: string): string {
  const p = urlPath.split('?')[0];
  if (p === '/_ping') return 'docker ping';
  if (/^\/images\/.+\/json$/.test(p)) return 'image inspect';
  if (p === '/containers/create') return 'container create';
  if (/^\/containers\/[^/]+\/start$/.test(p)) return 'container start';
  if (/^\/containers\/[^/]+\/(logs|attach)$/.test(p)) return 'log attach';
  if (/^\/containers\/[^/]+\/wait$/.test(p)) return 'container wait';
  return `docker ${method} ${p.replace(/[0-9a-f]{64}/g, '{id}')}`;
}

type Dial = (opts: { method?: string; path?: string }, cb: (err: unknown, data: unknown) => void) => void;

/**
 * Every dockerode call goes through modem.dial; its callback fires when the response is in (for streams
 * such as logs, when the headers are), which is when the runner can go on.
 */
export function traceDockerApi(docker: Docker, tracer: Tracer): void {
  const modem = docker.modem as unknown as { dial: Dial };
  const dial = modem.dial.bind(modem);
  modem.dial = (opts, cb) => {
    const start = tracer.now();
    const phase = dockerPhase(opts.method ?? 'GET', opts.path ?? '');
    dial(opts, (err, data) => {
      tracer.record(phase, start);
      cb(err, data);
    });
  };
}

/**
 * Replaces a compiled module's exports with timed wrappers. esbuild's CommonJS exports are getter-only
 * properties, so they cannot be patched in place; swapping the cached module's `exports` works as long as
 * this runs before the module that calls them (the runner) is first required. Returns the phases wrapped,
 * so a refactor that renames a function shows up as "not traced" instead of silently missing time.
 */
export function traceModuleExports(resolvedPath: string, phases: Record<string, string>, tracer: Tracer): string[] {
  const original = require(resolvedPath) as Record<string, unknown>;
  const cached = require.cache[resolvedPath];
  if (!cached) return [];
  const wrapped: Record<string, unknown> = { ...original };
  const done: string[] = [];
  for (const [name, phase] of Object.entries(phases)) {
    const fn = original[name];
    if (typeof fn !== 'function') continue;
    wrapped[name] = tracer.wrap(phase, fn as (...args: unknown[]) => unknown);
    done.push(phase);
  }
  cached.exports = wrapped;
  return done;
}

/** Total time covered by the spans inside [0, until], counting overlaps once. */
export function coveredMs(spans: readonly Span[], until: number): number {
  const clipped = spans
    .map((s) => ({ start: Math.max(0, s.start), end: Math.min(until, s.end) }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start);
  let total = 0;
  let curStart = -1;
  let curEnd = -1;
  for (const s of clipped) {
    if (s.start > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = s.start;
      curEnd = s.end;
    } else {
      curEnd = Math.max(curEnd, s.end);
    }
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

/** Per-phase time inside [0, until]: the sum of that phase's clipped spans. */
export function phaseTotals(spans: readonly Span[], until: number): Map<string, number> {
  const totals = new Map<string, number>();
  for (const s of spans) {
    const d = Math.min(until, s.end) - Math.max(0, s.start);
    if (d > 0) totals.set(s.phase, (totals.get(s.phase) ?? 0) + d);
  }
  return totals;
}
