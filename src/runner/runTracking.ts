import * as path from 'node:path';
import { RunRecord } from '../model/runs/run';
import { TRACKING_FILE, finalMetrics, readTracking } from '../model/runs/tracking';
import { resolveOutputPath } from './artifacts';

export type RunTrackingSummary = Pick<RunRecord, 'metrics' | 'params' | 'tags' | 'artifacts'>;

/**
 * What a finished run's record keeps of its tracking events: final metrics, params, tags, and the
 * artifacts that really lie inside its outputs folder (a script could log `../../etc/passwd` or a
 * symlink out of it; those are dropped).
 */
export async function readRunTracking(trackingDir: string, outputsDir: string): Promise<RunTrackingSummary> {
  const data = await readTracking(path.join(trackingDir, TRACKING_FILE));
  const out: RunTrackingSummary = {};
  const metrics = finalMetrics(data);
  if (Object.keys(metrics).length) out.metrics = metrics;
  if (Object.keys(data.params).length) out.params = data.params;
  if (Object.keys(data.tags).length) out.tags = data.tags;
  const safe: string[] = [];
  for (const rel of data.artifacts) {
    if (await resolveOutputPath(outputsDir, rel).then(() => true, () => false)) safe.push(rel);
  }
  if (safe.length) out.artifacts = safe;
  return out;
}
