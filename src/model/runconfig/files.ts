/**
 * Named run configurations on disk: `<workspace>/.mlw/runconfigs/<name>.yaml` (or `.yml`), shared through git.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTextIfExists, writeFileAtomic } from '../common/atomicFile';
import { UserFacingError } from '../common/errors';
import { RUNCONFIG_EXTENSIONS, validateRunConfigName } from './names';
import { parseRunConfig } from './parse';
import { RunConfig } from './types';

export const RUNCONFIG_DIR = path.join('.mlw', 'runconfigs');

function checkName(name: string): void {
  const problem = validateRunConfigName(name);
  if (problem) throw new UserFacingError(problem);
}

/** The folder-relative file of a config, preferring .yaml; both existing is ambiguous and reported. */
async function existingFile(workspaceRoot: string, name: string): Promise<string | undefined> {
  const present: string[] = [];
  for (const ext of RUNCONFIG_EXTENSIONS) {
    const rel = path.join(RUNCONFIG_DIR, name + ext);
    try {
      await fs.promises.access(path.join(workspaceRoot, rel));
      present.push(rel);
    } catch {
      // absent
    }
  }
  if (present.length > 1) {
    throw new UserFacingError(`Both ${present.join(' and ')} exist, so run configuration "${name}" is ambiguous; remove one.`);
  }
  return present[0];
}

/** Undefined when the config has no file. Errors name the workspace-relative path; the result's `file` is absolute. */
export async function loadRunConfig(workspaceRoot: string, name: string): Promise<RunConfig | undefined> {
  checkName(name);
  const rel = await existingFile(workspaceRoot, name);
  if (!rel) return undefined;
  const file = path.join(workspaceRoot, rel);
  // Removed between the existence check and the read: the same as never having existed.
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  return { ...parseRunConfig(name, rel, text), file };
}

/** Names of the configs in the folder, sorted; files whose names loadRunConfig would refuse are left out. */
export async function listRunConfigs(workspaceRoot: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await fs.promises.readdir(path.join(workspaceRoot, RUNCONFIG_DIR));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  const names = new Set<string>();
  for (const entry of entries) {
    const ext = RUNCONFIG_EXTENSIONS.find((e) => entry.endsWith(e));
    if (!ext) continue;
    const name = entry.slice(0, -ext.length);
    if (validateRunConfigName(name) === undefined) names.add(name);
  }
  return [...names].sort();
}

/**
 * Validates `text` (a config that would not load is never written), then writes it atomically. An existing
 * `<name>.yml` is overwritten in place rather than shadowed by a new `.yaml`. Returns the absolute path.
 */
export async function saveRunConfig(workspaceRoot: string, name: string, text: string): Promise<string> {
  checkName(name);
  const rel = (await existingFile(workspaceRoot, name)) ?? path.join(RUNCONFIG_DIR, name + '.yaml');
  parseRunConfig(name, rel, text);
  const file = path.join(workspaceRoot, rel);
  await writeFileAtomic(file, text);
  return file;
}
