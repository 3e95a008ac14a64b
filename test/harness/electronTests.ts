/**
 * The same VS Code suite through @vscode/test-electron, for machines that can download VS Code
 * (`npm run test:electron`). Here, offline, use `npm test`, which runs it in code-server instead.
 */
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT, createTestWorkspace } from './testWorkspace';

async function main(): Promise<void> {
  const workspace = createTestWorkspace();
  await runTests({
    version: '1.100.3',
    extensionDevelopmentPath: REPO_ROOT,
    extensionTestsPath: path.join(REPO_ROOT, 'out', 'test', 'vscode', 'index'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((err) => {
  console.error(`VS Code (electron) tests failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
