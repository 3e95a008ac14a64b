import { simpleGit } from 'simple-git';
import { GitLineage } from '../model/run';

/** Commit, branch and dirty flag of the repository holding `dir`; undefined when it is not in a git repository. */
export async function readGitLineage(dir: string): Promise<GitLineage | undefined> {
  const git = simpleGit({ baseDir: dir });
  try {
    if (!(await git.checkIsRepo())) return undefined;
    const commit = (await git.revparse(['HEAD'])).trim();
    const branch = (await git.revparse(['--abbrev-ref', 'HEAD'])).trim();
    const status = await git.status();
    return { commit, branch: branch === 'HEAD' ? '(detached)' : branch, dirty: !status.isClean() };
  } catch {
    // A repository without commits yet, or git missing: lineage is simply unknown.
    return undefined;
  }
}
