import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { UserFacingError } from '../model/common/errors';
import { UnreadableRunError } from '../model/runs/recordCheck';
import { RunRecord, RunStatus, isTerminal } from '../model/runs/run';
import { RunStore } from '../model/runs/runStore';
import { ENV_IMAGE_REPO, RUN_ID_LABEL, isNotFound } from './docker/client';
import { inspectAndJudge } from './docker/imageHolds';

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
  /** This workspace's hold tag on it (released before the image is removed). */
  hold: string;
}

export interface KeptImage {
  tag: string;
  reason: string;
}

export interface CleanupPlan {
  runs: CleanupCandidate[];
  /** ML Workbench-built images only those runs use (removed with them). */
  images: ImageCandidate[];
  /** Images those runs used that stay, and why (another workspace uses one; one ML Workbench did not build). */
  imagesKept: KeptImage[];
  bytes: number;
}

/**
 * Images a workspace's runs used that would be unused once `removing` runs are gone, with the verdict of their
 * own labels and tags (docker/imageHolds.ts): only images ML Workbench built that no other workspace holds may go.
 */
async function imagesFreedBy(docker: Docker, store: RunStore, removing: RunRecord[]): Promise<{ free: ImageCandidate[]; kept: KeptImage[]; release: string[] }> {
  const gone = new Set(removing.map((r) => r.id));
  const candidates = new Map<string, string>();
  for (const r of removing) {
    if (r.imageId && r.environment?.imageTag?.startsWith(`${ENV_IMAGE_REPO}:`)) candidates.set(r.imageId, r.environment.imageTag);
  }
  if (!candidates.size) return { free: [], kept: [], release: [] };
  for (const s of await store.listSummaries()) {
    if (!gone.has(s.id) && s.imageId) candidates.delete(s.imageId);
  }
  const free: ImageCandidate[] = [];
  const kept: KeptImage[] = [];
  const release: string[] = [];
  for (const [id, tag] of candidates) {
    const judged = await inspectAndJudge(docker, id, tag, store.workspaceRoot);
    if (!judged) continue;
    const { verdict } = judged;
    if (verdict.remove) {
      free.push({ id, tag, bytes: judged.info.Size ?? 0, hold: verdict.hold });
    } else {
      kept.push({ tag, reason: verdict.reason });
      if (verdict.release) release.push(verdict.release);
    }
  }
  return { free, kept, release };
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
  const { free: images, kept } = await imagesFreedBy(docker, store, records);
  return { runs, images, imagesKept: kept, bytes: runs.reduce((n, r) => n + r.bytes, 0) + images.reduce((n, i) => n + i.bytes, 0) };
}

export interface DeleteResult {
  deleted: string[];
  imagesRemoved: string[];
  /** Images kept, and why: not built by ML Workbench, used by another workspace, or refused by Docker. */
  imagesKept: KeptImage[];
}

/**
 * Deletes runs: their containers, their folders, and the images ML Workbench built that no remaining run
 * uses. Active runs are refused (cancel them first), so a run record is never lost under a live container.
 */
export async function deleteRuns(docker: Docker, store: RunStore, ids: string[]): Promise<DeleteResult> {
  const records: RunRecord[] = [];
  // A damaged run.json says nothing about its run, so only its containers can tell whether it is still going.
  const unreadable: string[] = [];
  for (const id of ids) {
    let r: RunRecord | undefined;
    try {
      r = await store.get(id);
    } catch (err) {
      if (!(err instanceof UnreadableRunError)) throw err;
      const live = await docker.listContainers({ filters: { label: [`${RUN_ID_LABEL}=${id}`], status: ['running'] } });
      if (live.length) {
        throw new UserFacingError(`Run ${id} cannot be read (${err.reason}) and its container ${live[0].Id.slice(0, 12)} is still running; stop it ("docker stop ${live[0].Id.slice(0, 12)}") before deleting the run.`);
      }
      unreadable.push(id);
      continue;
    }
    if (!r) continue;
    if (!isTerminal(r.status)) throw new UserFacingError(`Run ${id} is ${r.status}; cancel it before deleting it.`);
    records.push(r);
  }
  const { free: images, kept, release } = await imagesFreedBy(docker, store, records);
  const result: DeleteResult = { deleted: [], imagesRemoved: [], imagesKept: kept };
  for (const id of [...records.map((r) => r.id), ...unreadable]) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${RUN_ID_LABEL}=${id}`] } })) {
      await docker.getContainer(c.Id).remove({ force: true }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
    await store.delete(id);
    result.deleted.push(id);
  }
  // Images another workspace still uses stay; this workspace no longer holds them.
  for (const hold of release) await untag(docker, hold).catch(() => undefined);
  for (const img of images) {
    try {
      // Release this workspace's hold, then remove by id without force: the engine refuses while any other tag
      // (a hold another workspace added meanwhile) or any container still names the image.
      await untag(docker, img.hold);
      await docker.getImage(img.id).remove();
      result.imagesRemoved.push(img.tag);
    } catch (err) {
      result.imagesKept.push({ tag: img.tag, reason: `Docker refused to remove it: ${engineReason(err as Error)}` });
    }
  }
  return result;
}

/** Removes one tag (the image stays while other tags name it); a tag already gone is fine. */
async function untag(docker: Docker, tag: string): Promise<void> {
  await docker.getImage(tag).remove().catch((err) => {
    if (!isNotFound(err)) throw err;
  });
}

function engineReason(err: Error): string {
  const json = (err as { json?: { message?: string } }).json;
  return (typeof json?.message === 'string' ? json.message : err.message).trim();
}

/** What a deletion did, for the notification: what was removed, and each image kept with the reason. */
export function describeDeletion(result: DeleteResult): string {
  const removed = result.imagesRemoved.length ? ` and ${result.imagesRemoved.length} unused image${result.imagesRemoved.length === 1 ? '' : 's'} (${result.imagesRemoved.join(', ')})` : '';
  const kept = result.imagesKept.map((i) => ` Kept image ${i.tag}: ${i.reason}.`).join('');
  return `Deleted ${result.deleted.length} run${result.deleted.length === 1 ? '' : 's'}${removed}.${kept}`;
}
