import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * What `.mlw/.gitignore` holds: run data and model files stay on this machine; what a team shares (run
 * configurations, the Dockerfile, each model version's small metadata file and its aliases) is committed.
 */
export const MLW_GITIGNORE = [
  '# ML Workbench: run data and model files are local to this machine; run configurations, .mlw/Dockerfile and model versions (metadata) are shared.',
  '*',
  '!.gitignore',
  '!Dockerfile',
  '!runconfigs/',
  '!runconfigs/**',
  '!models/',
  '!models/**',
  '',
].join('\n');

/** Writes `.mlw/.gitignore`, or brings our own earlier version of it up to date; a file the user edited is theirs. */
export async function ensureMlwGitignore(workspaceRoot: string): Promise<void> {
  const file = path.join(workspaceRoot, '.mlw', '.gitignore');
  const current = await fs.promises.readFile(file, 'utf8').catch(() => undefined);
  if (current === MLW_GITIGNORE || (current !== undefined && !current.startsWith('# ML Workbench'))) return;
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, MLW_GITIGNORE);
}
