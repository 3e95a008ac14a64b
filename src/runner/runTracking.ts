import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunRecord } from '../model/runs/run';
import { TRACKING_FILE, finalMetrics, readTracking } from '../model/runs/tracking';
import { resolveOutputPath } from './artifacts';

export type RunTrackingSummary = Pick<RunRecord, 'metrics' | 'params' | 'tags' | 'artifacts' | 'trackingUnreadable'>;

/**
 * What a finished run's record keeps of its tracking events: final metrics, params, tags, and the
 * artifacts that really lie inside its outputs folder (a script could log `../../etc/passwd` or a
 * symlink out of it; those are dropped, and so is anything that is not a file or a folder, such as a FIFO).
 * When events.jsonl itself was not readable (a link, a FIFO, too large), the record says why.
 */
export async function readRunTracking(trackingDir: string, outputsDir: string): Promise<RunTrackingSummary> {
  const data = await readTracking(path.join(trackingDir, TRACKING_FILE));
  const out: RunTrackingSummary = {};
  const metrics = finalMetrics(data);
  if (Object.keys(metrics).length) out.metrics = metrics;
  if (Object.keys(data.params).length) out.params = data.params;
  if (Object.keys(data.tags).length) out.tags = data.tags;
  if (data.unreadable) out.trackingUnreadable = data.unreadable;
  const safe: string[] = [];
  for (const rel of data.artifacts) {
    const real = await resolveOutputPath(outputsDir, rel).catch(() => undefined);
    const st = real === undefined ? undefined : await fs.promises.stat(real).catch(() => undefined);
    if (st && (st.isFile() || st.isDirectory())) safe.push(rel);
  }
  if (safe.length) out.artifacts = safe;
  return out;
}
