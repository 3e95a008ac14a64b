/**
 * The limits a run gets whatever its run configuration says (memory, processes) and the caps on what it may
 * write (outputs, logs, tracking): their defaults, how a size is measured, and the reason a run that passes a
 * cap fails with. Target-independent: the target applies memory and pids; the lifecycle enforces the caps.
 */
import * as fs from 'node:fs';
import { RunLimits, RunOptions } from '../../model/runs/run';
import { walkTree } from '../fileWalker';

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/** Enough for data-loader workers and BLAS thread pools, far below what exhausts a host's pid table. */
export const DEFAULT_PIDS = 4096;
export const DEFAULT_OUTPUTS_BYTES = 10 * GIB;
export const DEFAULT_LOGS_BYTES = 100 * MIB;
export const DEFAULT_TRACKING_BYTES = 100 * MIB;
/**
 * Half of the engine's memory: a runaway script is stopped as out of memory before the machine (the editor, the
 * engine itself) starts swapping, and a user who needs more says so in resources.memory.
 */
export const DEFAULT_MEMORY_FRACTION = 0.5;
/** Docker refuses less; an engine this small gets no default limit rather than an unusable one. */
const MIN_MEMORY_BYTES = 6 * MIB;

/** The run's limits: what its configuration set, else the defaults (each defaulted key listed). */
export function resolveRunLimits(options: RunOptions, engineMemoryBytes: number | undefined): RunLimits {
  const set = options.resources ?? {};
  const defaulted: string[] = [];
  const pick = (value: number | undefined, fallback: number | undefined, key: string): number | undefined => {
    if (value !== undefined) return value;
    if (fallback !== undefined) defaulted.push(key);
    return fallback;
  };
  const defaultMemory = engineMemoryBytes ? Math.floor(engineMemoryBytes * DEFAULT_MEMORY_FRACTION) : undefined;
  const memoryBytes = pick(set.memoryBytes, defaultMemory && defaultMemory >= MIN_MEMORY_BYTES ? defaultMemory : undefined, 'resources.memory');
  return {
    ...(memoryBytes !== undefined ? { memoryBytes } : {}),
    pids: pick(set.pids, DEFAULT_PIDS, 'resources.pids')!,
    outputsBytes: pick(set.outputsBytes, DEFAULT_OUTPUTS_BYTES, 'resources.outputs')!,
    logsBytes: pick(set.logsBytes, DEFAULT_LOGS_BYTES, 'resources.logs')!,
    trackingBytes: pick(set.trackingBytes, DEFAULT_TRACKING_BYTES, 'resources.tracking')!,
    defaulted,
  };
}

/** Binary units, as the run configuration reads them (`1m` = 1 MiB), so the reason's figure is the key's. */
export function formatCap(bytes: number): string {
  const units: Array<[number, string]> = [[GIB, 'GiB'], [MIB, 'MiB'], [KIB, 'KiB']];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const v = bytes / size;
      return `${Number.isInteger(v) ? v : v.toFixed(v < 10 ? 2 : 1)} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

type CapName = 'outputs' | 'logs' | 'tracking';

const CAPS: Record<CapName, { key: string; limit: (l: RunLimits) => number; what: string }> = {
  outputs: { key: 'resources.outputs', limit: (l) => l.outputsBytes, what: 'The outputs folder' },
  tracking: { key: 'resources.tracking', limit: (l) => l.trackingBytes, what: 'The tracking folder (metrics, params, tags)' },
  logs: { key: 'resources.logs', limit: (l) => l.logsBytes, what: 'The output the script printed' },
};

/** The reason a run that passed a cap fails with: which cap, its size, and the key (in which config) to raise. */
export function capReason(cap: CapName, limits: RunLimits, configName: string | undefined, options: { measured?: number; stopped: boolean }): string {
  const { key, limit, what } = CAPS[cap];
  const held = options.measured !== undefined ? ` (it held ${formatCap(options.measured)} or more)` : '';
  const where = configName ? `in run configuration "${configName}"` : 'in a run configuration';
  const outcome = options.stopped ? 'so the run was stopped' : 'so the run failed';
  return `${what} passed the ${formatCap(limit(limits))} cap of ${key}${held}, ${outcome}. Raise ${key} ${where} to allow more.`;
}

/**
 * The apparent size of everything under `dir` (what `du --apparent-size` counts: a sparse file in full, since
 * any copy of it may become that big), links never followed. Stops counting once past `stopAbove`, so a
 * folder far over its cap costs no more to measure than one at it. A missing folder is empty.
 */
export async function apparentSize(dir: string, stopAbove = Infinity): Promise<number> {
  let total = 0;
  await walkTree(dir, {
    entry: (e) => {
      total += e.stat!.size;
      return total > stopAbove ? 'stop' : undefined;
    },
    unreadable: giveReadBack,
  }, { stats: true, maxEntries: Infinity, maxDepth: Infinity }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
  });
  return total;
}

/**
 * A run may take read permission off its own folders (it owns them) to hide their size; the host, which owns
 * them too when it is not root, gives it back once to measure.
 */
async function giveReadBack(dir: string, err: NodeJS.ErrnoException): Promise<boolean> {
  if (err.code !== 'EACCES') return false;
  return fs.promises.chmod(dir, 0o700).then(() => true, () => false);
}

export interface CappedFolders {
  outputs: string;
  tracking: string;
  logs: string;
}

/** The first cap a run's folders are past now, with its reason; undefined when all are within. */
export async function exceededCap(folders: CappedFolders, limits: RunLimits, configName: string | undefined): Promise<string | undefined> {
  for (const cap of ['outputs', 'tracking'] as const) {
    const limit = CAPS[cap].limit(limits);
    const size = await apparentSize(folders[cap], limit);
    if (size > limit) return capReason(cap, limits, configName, { measured: size, stopped: false });
  }
  // The log cap note makes logs.txt longer than the cap, so a log that was cut is told from one that fit.
  const logs = await fs.promises.stat(folders.logs).then((s) => s.size, () => 0);
  if (logs > limits.logsBytes) return capReason('logs', limits, configName, { stopped: false });
  return undefined;
}

/**
 * Keeps a run's log within its cap while it streams: passes chunks through until the cap, then the part that
 * fits and a note saying where and why the log stops, then nothing. `written` is what logs.txt holds already
 * (a reattach), so the cap counts the whole log.
 */
export class LogCap {
  private exceeded: boolean;

  constructor(
    private readonly limits: RunLimits,
    private written: number,
    private readonly onExceeded: () => void,
  ) {
    this.exceeded = written > limits.logsBytes;
  }

  /** What of `chunk` to write and show; empty once the cap is passed. */
  admit(chunk: Buffer): Buffer[] {
    if (this.exceeded) return [];
    const room = this.limits.logsBytes - this.written;
    if (chunk.length <= room) {
      this.written += chunk.length;
      return [chunk];
    }
    this.exceeded = true;
    this.written = this.limits.logsBytes;
    this.onExceeded();
    const note = `\n[mlw] The log stops here: the script printed more than the ${formatCap(this.limits.logsBytes)} cap of resources.logs.\n`;
    return [chunk.subarray(0, room), Buffer.from(note)];
  }
}

/**
 * Between two measurements; longer when measuring is slow, so a huge folder costs at most a fifth of a core.
 * Short, since a script writing into the page cache (1-2 GB/s here) is that much further past its cap by the next.
 */
const POLL_MS = 200;

/**
 * Measures a running run's outputs and tracking folders five times a second and calls `onExceeded` once with the
 * reason when one is past its cap. One measurement at a time, each bounded by the cap (apparentSize stops
 * there), the next one waiting at least four times as long as the last took.
 */
export class CapWatch {
  /** The reason of the cap that stopped the run, once one did. */
  reason?: string;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly folders: CappedFolders,
    private readonly limits: RunLimits,
    private readonly configName: string | undefined,
    private readonly onExceeded: (reason: string) => void,
  ) {
    this.schedule(POLL_MS);
  }

  /** For the log cap, which the log stream notices itself. */
  logsExceeded(): void {
    this.trip(capReason('logs', this.limits, this.configName, { stopped: true }));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.measure(), ms);
    this.timer.unref?.();
  }

  private async measure(): Promise<void> {
    const started = Date.now();
    for (const cap of ['outputs', 'tracking'] as const) {
      const limit = CAPS[cap].limit(this.limits);
      const size = await apparentSize(this.folders[cap], limit).catch(() => 0);
      if (size > limit) return this.trip(capReason(cap, this.limits, this.configName, { measured: size, stopped: true }));
    }
    this.schedule(Math.max(POLL_MS, 4 * (Date.now() - started)));
  }

  private trip(reason: string): void {
    if (this.reason || this.stopped) return;
    this.reason = reason;
    this.stop();
    this.onExceeded(reason);
  }
}
