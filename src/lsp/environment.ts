/**
 * The machine as the language server sees it: workspace files and the Docker engine. Docker's client loads on
 * the first image question; every engine call is bounded by a timeout and answers "unknown" on failure, so a
 * missing or slow Docker never becomes a diagnostic or a hung request.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isHoldTag } from '../runner/docker/imageHolds';
import type { Environment, ImageInfo } from './service';

const DOCKER_TIMEOUT_MS = 3000;
/** Image answers are reused this long: diagnostics run on every keystroke pause. */
const IMAGE_CACHE_MS = 10_000;
/** A workspace walk stops here: completion needs a list to pick from, not every file of a data folder. */
const MAX_SCRIPTS = 2000;
const SKIPPED_DIRS = new Set(['.git', '.mlw', 'node_modules', '__pycache__', '.venv', 'venv', '.tox', 'outputs']);

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}

export function machineEnvironment(dockerHost: () => string | undefined): Environment {
  const images = new Map<string, { at: number; value: Promise<ImageInfo | null | undefined> }>();
  let tags: { at: number; value: Promise<string[]> } | undefined;
  const docker = async () => {
    const { connectDocker } = await import('../runner/docker/client');
    return connectDocker(dockerHost() || undefined);
  };
  return {
    async fileExists(root, rel) {
      try {
        return (await fs.promises.stat(path.join(root, ...rel.split('/')))).isFile();
      } catch {
        return false;
      }
    },
    async listScripts(root) {
      const found: string[] = [];
      const walk = async (dir: string, rel: string): Promise<void> => {
        let entries: fs.Dirent[];
        try {
          entries = await fs.promises.readdir(dir, { withFileTypes: true });
        } catch {
          return;
        }
        entries.sort((a, b) => a.name.localeCompare(b.name));
        for (const e of entries) {
          if (found.length >= MAX_SCRIPTS) return;
          const childRel = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory() && !SKIPPED_DIRS.has(e.name)) await walk(path.join(dir, e.name), childRel);
          else if (e.isFile() && e.name.endsWith('.py')) found.push(childRel);
        }
      };
      await walk(root, '');
      return found;
    },
    inspectImage(ref) {
      const cached = images.get(ref);
      if (cached && Date.now() - cached.at < IMAGE_CACHE_MS) return cached.value;
      const value = (async () => {
        try {
          const client = await docker();
          const info = await withTimeout(client.getImage(ref).inspect(), DOCKER_TIMEOUT_MS);
          return { id: info.Id, sizeBytes: info.Size, created: info.Created };
        } catch (err) {
          return (err as { statusCode?: number }).statusCode === 404 ? null : undefined;
        }
      })();
      images.set(ref, { at: Date.now(), value });
      return value;
    },
    listImageTags() {
      if (tags && Date.now() - tags.at < IMAGE_CACHE_MS) return tags.value;
      const value = (async () => {
        try {
          const client = await docker();
          const list = await withTimeout(client.listImages(), DOCKER_TIMEOUT_MS);
          return [...new Set(list.flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>' && !isHoldTag(t)))].sort();
        } catch {
          return [];
        }
      })();
      tags = { at: Date.now(), value };
      return value;
    },
  };
}
