import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface WorkspaceRoot {
  dir: string;
  /** Why this folder: the one named, the nearest holding `.mlw/`, the git top level, or the current folder. */
  source: 'flag' | 'mlw' | 'git' | 'cwd';
}

/** The nearest folder at or above `from` that holds a `.mlw` folder. */
function nearestMlwFolder(from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      if (fs.statSync(path.join(dir, '.mlw')).isDirectory()) return dir;
    } catch {
      // none here; look further up
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function gitTopLevel(from: string): string | undefined {
  try {
    const out = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: from, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return out.trim() || undefined;
  } catch {
    return undefined; // not a repository, or no git
  }
}

/**
 * The workspace a command works on, as the editor would open it: `--workspace` when given; else, from the
 * current folder, the nearest folder that already holds `.mlw/` (its runs), else the top of the git repository,
 * else the current folder. Started in a subfolder of a project, `mlw` so never starts a second store there.
 */
export function findWorkspaceRoot(cwd: string, flag?: string): WorkspaceRoot {
  if (flag !== undefined) return { dir: path.resolve(cwd, flag), source: 'flag' };
  const mlw = nearestMlwFolder(cwd);
  if (mlw) return { dir: mlw, source: 'mlw' };
  const git = gitTopLevel(cwd);
  if (git) return { dir: path.resolve(git), source: 'git' };
  return { dir: cwd, source: 'cwd' };
}

/** The line that says which workspace was chosen when it is not the current folder, so it is never a surprise. */
export function describeWorkspaceRoot(root: WorkspaceRoot, cwd: string): string | undefined {
  if (root.source === 'flag' || path.resolve(root.dir) === path.resolve(cwd)) return undefined;
  const why = root.source === 'mlw' ? 'the nearest folder with .mlw/' : 'the top of the git repository';
  return `mlw: workspace ${root.dir} (${why}; --workspace DIR to choose another)`;
}
