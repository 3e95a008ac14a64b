import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'workspace');

/** The base image tests use: MLW_TEST_BASE_IMAGE (set by scripts/test.sh to the offline image), else the default. */
export function testBaseImage(): string {
  return process.env.MLW_TEST_BASE_IMAGE || 'python:3.12-slim';
}

/**
 * A fresh copy of the fixture workspace in a temp folder, committed to a new git repository (so runs have
 * lineage), with .vscode/settings.json pointing mlw.baseImage at the test base image.
 */
export function createTestWorkspace(prefix = 'mlw-ws-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.cpSync(FIXTURE, dir, { recursive: true });
  fs.mkdirSync(path.join(dir, '.vscode'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, '.vscode', 'settings.json'),
    JSON.stringify({ 'mlw.baseImage': testBaseImage() }, null, 2) + '\n',
  );
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=ML Workbench Tests', '-c', 'user.email=tests@mlw.invalid', 'add', '-A');
  git('-c', 'user.name=ML Workbench Tests', '-c', 'user.email=tests@mlw.invalid', 'commit', '-q', '-m', 'fixture');
  return dir;
}

/**
 * Removes a test workspace and the run containers labelled with it: a run still going when its window closes
 * (the e2e tests stop code-server mid-run) is followed by nobody, so its exited container would stay behind.
 */
export function removeTestWorkspace(workspace: string): void {
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=mlw.workspace=${workspace}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  // The run's own writer may still be recording the container's end when the container goes, so a file can
  // appear while the tree is being removed (ENOTEMPTY); fs.rmSync retries those with a growing wait.
  fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}
