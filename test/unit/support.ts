import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { createTestWorkspace, testBaseImage } from '../harness/testWorkspace';

export { createTestWorkspace, testBaseImage };

export function tempDir(prefix = 'mlw-unit-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function write(root: string, rel: string, content: string | Buffer): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

export const docker = new Docker();

/**
 * Removes images a test tagged, by exact tag (never by pattern): the image each tag names, by its id, so the
 * workspace hold tags environment images also carry (src/runner/docker/imageHolds.ts) go with it.
 */
export async function removeImages(tags: string[]): Promise<void> {
  for (const tag of tags) {
    const id = await docker.getImage(tag).inspect().then((i) => i.Id, () => undefined);
    if (id) await docker.getImage(id).remove({ force: true }).catch(() => undefined);
  }
}

export async function containersWithLabel(label: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [label] } });
}
