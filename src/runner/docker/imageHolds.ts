import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { ENV_HASH_LABEL, ENV_IMAGE_REPO, inspectImage } from './client';

/**
 * Which workspaces use an environment image, kept in the engine itself: every workspace whose runs use
 * `mlw-env:<hash>` adds its own tag `mlw-env:<hash>.ws-<key>` (a "hold"). Environment images are content-
 * addressed, so one image serves every workspace with the same environment; the holds let Clean Up in one
 * workspace tell that another still needs it, across processes, users and editors, with no file outside the
 * engine. Removing an image by id while another tag names it is refused by the engine, which closes the race of
 * a hold added meanwhile.
 */

/** A stable short key of a workspace folder (its real path), for hold tags. */
export function workspaceKey(workspaceRoot: string): string {
  let real = path.resolve(workspaceRoot);
  try {
    real = fs.realpathSync(real);
  } catch {
    // a folder that is gone keeps the key of its path
  }
  return createHash('sha256').update(real).digest('hex').slice(0, 12);
}

/** `mlw-env:<hash>` → `<hash>`; undefined for any other tag (a base image, a user's image). */
function envHashOfTag(tag: string): string | undefined {
  const m = new RegExp(`^${ENV_IMAGE_REPO}:([0-9a-f]{16})$`).exec(tag);
  return m?.[1];
}

/** The tag by which `workspaceRoot` holds the environment image `imageTag` (`mlw-env:<hash>`). */
export function holdTag(imageTag: string, workspaceRoot: string): string | undefined {
  const hash = envHashOfTag(imageTag);
  return hash ? `${ENV_IMAGE_REPO}:${hash}.ws-${workspaceKey(workspaceRoot)}` : undefined;
}

/** Whether a tag is a workspace's hold, not a name anyone would pick (editors leave them out of image lists). */
export function isHoldTag(tag: string): boolean {
  return new RegExp(`^${ENV_IMAGE_REPO}:[0-9a-f]{16}\\.ws-[0-9a-f]{12}$`).test(tag);
}

/** Records that a run of `workspaceRoot` uses the environment image (idempotent; the tag moves with a rebuild). */
export async function holdImage(docker: Docker, imageId: string, imageTag: string, workspaceRoot: string): Promise<void> {
  const hold = holdTag(imageTag, workspaceRoot);
  if (!hold) return;
  const [repo, tag] = [hold.slice(0, hold.indexOf(':')), hold.slice(hold.indexOf(':') + 1)];
  await docker.getImage(imageId).tag({ repo, tag });
}

/** `release`: this workspace's hold, to drop even though the image stays (another workspace still uses it). */
export type ImageVerdict = { remove: true; hold: string } | { remove: false; reason: string; release?: string };

/**
 * Whether deleting this workspace's last runs of an image may remove it, from the image's own labels and tags
 * (never from what a run record says): only an image ML Workbench built, under the tag the record names, that no
 * other workspace holds and that no one else has tagged.
 */
export function judgeImage(info: Docker.ImageInspectInfo, recordedTag: string, workspaceRoot: string): ImageVerdict {
  const labels = info.Config?.Labels ?? {};
  const hash = labels[ENV_HASH_LABEL];
  if (!hash) return { remove: false, reason: `not built by ML Workbench (it has no ${ENV_HASH_LABEL} label), so it is never removed` };
  const tags = info.RepoTags ?? [];
  const canonical = `${ENV_IMAGE_REPO}:${hash.slice(0, 16)}`;
  if (recordedTag !== canonical || !tags.includes(canonical)) {
    return { remove: false, reason: `it is not the environment image ${recordedTag} the run recorded (its ${ENV_HASH_LABEL} label says ${canonical})` };
  }
  const foreign = tags.filter((t) => !t.startsWith(`${canonical}.ws-`) && t !== canonical);
  if (foreign.length) return { remove: false, reason: `also tagged ${foreign.join(', ')}, which ML Workbench did not make` };
  const hold = holdTag(canonical, workspaceRoot)!;
  const others = tags.filter((t) => t.startsWith(`${canonical}.ws-`) && t !== hold);
  if (others.length) {
    const reason = `runs of ${others.length} other workspace${others.length === 1 ? '' : 's'} use it`;
    return tags.includes(hold) ? { remove: false, reason, release: hold } : { remove: false, reason };
  }
  if (!tags.includes(hold)) {
    return {
      remove: false,
      reason: `it has no record of the workspaces that use it (built by an earlier ML Workbench), so runs elsewhere may need it; "docker rmi ${info.Id.replace(/^sha256:/, '').slice(0, 12)}" removes it when none does`,
    };
  }
  return { remove: true, hold };
}

/** The image and the verdict on it; undefined when the engine no longer has it. */
export async function inspectAndJudge(docker: Docker, imageId: string, recordedTag: string, workspaceRoot: string): Promise<{ info: Docker.ImageInspectInfo; verdict: ImageVerdict } | undefined> {
  const info = await inspectImage(docker, imageId);
  return info ? { info, verdict: judgeImage(info, recordedTag, workspaceRoot) } : undefined;
}
