import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { UserFacingError } from '../model/common/errors';
import { RunRecord, RunStatus, isTerminal } from '../model/runs/run';
import { RunStore } from '../model/runs/runStore';
import { ENV_IMAGE_REPO, RUN_ID_LABEL, inspectImage, isNotFound } from './docker/client';

/** Bytes a folder holds on disk (files only; symlinks are not followed). */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    const entries = await fs.promises.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) total += (await fs.promises.lstat(p)).size;
    }
  };
  await walk(dir);
  return total;
}

export interface CleanupCriteria {
  /** Runs created more than this many days ago. */
  olderThanDays?: number;
  /** Runs in these statuses (e.g. Failed, Canceled, Lost). */
  statuses?: RunStatus[];
  /** Keep starred runs even when they match (default true). */
  keepStarred?: boolean;
  now?: Date;
}

export interface CleanupCandidate {
  id: string;
  script: string;
  status: RunStatus;
  createdAt: string;
  bytes: number;
}

export interface ImageCandidate {
  id: string;
  tag: string;
  bytes: number;
}

export interface CleanupPlan {
  runs: CleanupCandidate[];
  /** ML Workbench-built images only those runs use (removed with them). */
  images: ImageCandidate[];
  bytes: number;
}

/** Images this store built (mlw-env:*) that would be unused once `removing` runs are gone. */
async function imagesFreedBy(docker: Docker, store: RunStore, removing: RunRecord[]): Promise<ImageCandidate[]> {
  const gone = new Set(removing.map((r) => r.id));
  const candidates = new Map<string, string>();
  for (const r of removing) {
    if (r.imageId && r.environment?.imageTag?.startsWith(`${ENV_IMAGE_REPO}:`)) candidates.set(r.imageId, r.environment.imageTag);
  }
  if (!candidates.size) return [];
  for (const s of await store.listSummaries()) {
    if (!gone.has(s.id) && s.imageId) candidates.delete(s.imageId);
  }
  const out: ImageCandidate[] = [];
  for (const [id, tag] of candidates) {
    const info = await inspectImage(docker, id);
    if (info) out.push({ id, tag, bytes: info.Size ?? 0 });
  }
  return out;
}

/** Which runs (and the images only they use) a clean-up would remove, with the bytes each frees. */
export async function planCleanup(docker: Docker, store: RunStore, criteria: CleanupCriteria): Promise<CleanupPlan> {
  const now = (criteria.now ?? new Date()).getTime();
  const keepStarred = criteria.keepStarred ?? true;
  const matches = (await store.listSummaries()).filter((s) => {
    if (!isTerminal(s.status)) return false;
    if (keepStarred && s.starred) return false;
    const old = criteria.olderThanDays !== undefined && now - Date.parse(s.createdAt) > criteria.olderThanDays * 86_400_000;
    const status = !!criteria.statuses?.includes(s.status);
    return old || status;
  });
  const runs: CleanupCandidate[] = [];
  const records: RunRecord[] = [];
  for (const s of matches) {
    const record = await store.get(s.id).catch(() => undefined);
    if (record) records.push(record);
    runs.push({ id: s.id, script: s.script, status: s.status, createdAt: s.createdAt, bytes: await folderBytes(store.paths(s.id).dir) });
  }
  const images = await imagesFreedBy(docker, store, records);
  return { runs, images, bytes: runs.reduce((n, r) => n + r.bytes, 0) + images.reduce((n, i) => n + i.bytes, 0) };
}

export interface DeleteResult {
  deleted: string[];
  imagesRemoved: string[];
  /** Images kept because Docker still needs them (another container, another tag). */
  imagesKept: { tag: string; reason: string }[];
}

/**
 * Deletes runs: their containers, their folders, and the images ML Workbench built that no remaining run
 * uses. Active runs are refused (cancel them first), so a run record is never lost under a live container.
 */
export async function deleteRuns(docker: Docker, store: RunStore, ids: string[]): Promise<DeleteResult> {
  const records: RunRecord[] = [];
  for (const id of ids) {
    const r = await store.get(id);
    if (!r) continue;
    if (!isTerminal(r.status)) throw new UserFacingError(`Run ${id} is ${r.status}; cancel it before deleting it.`);
    records.push(r);
  }
  const images = await imagesFreedBy(docker, store, records);
  const result: DeleteResult = { deleted: [], imagesRemoved: [], imagesKept: [] };
  for (const r of records) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${r.id}`] } })) {
      await docker.getContainer(c.Id).remove({ force: true }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
    await store.delete(r.id);
    result.deleted.push(r.id);
  }
  for (const img of images) {
    try {
      await docker.getImage(img.id).remove();
      result.imagesRemoved.push(img.tag);
    } catch (err) {
      result.imagesKept.push({ tag: img.tag, reason: (err as Error).message });
    }
  }
  return result;
}
