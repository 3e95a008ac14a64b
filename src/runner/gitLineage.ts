import { GitLineage } from '../model/runs/run';

export interface GitState {
  lineage: GitLineage;
  /** `git diff HEAD --binary` when tracked files changed (to be saved with the run), else ''. */
  patch: string;
}

/** Parses `git status --porcelain=v2 --branch -z`: headers, tracked changes, untracked paths. */
export function parsePorcelainV2(out: string): { commit?: string; branch?: string; trackedChanges: number; untracked: string[] } {
  const fields = out.split('\0');
  let commit: string | undefined;
  let branch: string | undefined;
  let trackedChanges = 0;
  const untracked: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.startsWith('# branch.oid ')) commit = f.slice('# branch.oid '.length);
    else if (f.startsWith('# branch.head ')) branch = f.slice('# branch.head '.length);
    else if (f.startsWith('? ')) untracked.push(f.slice(2));
    else if (f.startsWith('1 ') || f.startsWith('u ')) trackedChanges++;
    else if (f.startsWith('2 ')) {
      trackedChanges++;
      i++; // a rename carries its original path as the next field
    }
  }
  return { commit, branch, trackedChanges, untracked };
}

/**
 * Commit, branch, remote, dirty flag, untracked files and the uncommitted diff of the repository holding
 * `dir`; undefined when it is not in a git repository (or has no commit yet). Two git processes in the
 * common case (status, config), plus the diff only when tracked files changed: this is on the submit path.
 * Every command used prints something, which matters: simple-git waits 50 ms after a command that prints nothing.
 */
export async function readGitState(dir: string): Promise<GitState | undefined> {
  // Loaded on the first run, not with the extension: simple-git and its dependencies cost activation ~5 ms.
  const { simpleGit } = await import('simple-git');
  const git = simpleGit({ baseDir: dir });
  try {
    const [status, config] = await Promise.all([
      git.raw(['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all']),
      git.raw(['config', '--list', '--local']),
    ]);
    const parsed = parsePorcelainV2(status);
    if (!parsed.commit || parsed.commit === '(initial)') return undefined;
    const remotes = new Map<string, string>();
    for (const line of config.split('\n')) {
      const m = /^remote\.(.+)\.url=(.*)$/.exec(line);
      if (m) remotes.set(m[1], m[2]);
    }
    const remote = remotes.get('origin') ?? [...remotes.values()][0];
    const patch = parsed.trackedChanges ? await git.raw(['diff', 'HEAD', '--binary']) : '';
    return {
      lineage: {
        commit: parsed.commit,
        branch: !parsed.branch || parsed.branch === '(detached)' ? '(detached)' : parsed.branch,
        dirty: parsed.trackedChanges > 0 || parsed.untracked.length > 0,
        ...(remote ? { remote } : {}),
        ...(parsed.untracked.length ? { untracked: parsed.untracked } : {}),
      },
      patch,
    };
  } catch {
    // Not a repository, or git missing: lineage is simply unknown.
    return undefined;
  }
}
