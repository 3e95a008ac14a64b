/**
 * Runs the VS Code suite (test/vscode) inside a real VS Code 1.100.3: code-server serves the workbench on
 * 127.0.0.1, Debian's Chromium opens it with extensionDevelopmentPath/extensionTestsPath in the payload (as
 * @vscode/test-electron would pass them), and the suite reports through a results file we tail here.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { codeServerEntry, freePort, launchChromium, waitForHttp } from './codeServer';
import { RESULTS_ENV, ResultEvent } from './resultsProtocol';
import { REPO_ROOT, createTestWorkspace } from './testWorkspace';

const SUITE_TIMEOUT_MS = Number(process.env.MLW_VSCODE_TEST_TIMEOUT_MS ?? 20 * 60_000);
const UNTRUSTED = process.env.MLW_TEST_UNTRUSTED === '1';

class Report {
  passes = 0;
  failures: Extract<ResultEvent, { type: 'fail' }>[] = [];
  pending = 0;
  ended?: Extract<ResultEvent, { type: 'end' }>;

  print(e: ResultEvent): void {
    const pad = (depth: number) => '  '.repeat(depth + 1);
    switch (e.type) {
      case 'suite':
        console.log(`\n${pad(e.depth)}${e.title}`);
        break;
      case 'pass':
        this.passes++;
        console.log(`${pad(e.depth)}✔ ${e.title} (${e.duration}ms)`);
        break;
      case 'fail':
        this.failures.push(e);
        console.log(`${pad(e.depth)}${this.failures.length}) ${e.title}`);
        break;
      case 'pending':
        this.pending++;
        console.log(`${pad(e.depth)}- ${e.title}${e.reason ? ` (skipped: ${e.reason})` : ''}`);
        break;
      case 'end':
        this.ended = e;
        break;
    }
  }

  summary(): void {
    const secs = this.ended ? Math.round(this.ended.duration / 1000) : 0;
    console.log(`\n  ${this.passes} passing (${secs}s)`);
    if (this.pending) console.log(`  ${this.pending} pending`);
    if (this.failures.length) {
      console.log(`  ${this.failures.length} failing\n`);
      this.failures.forEach((f, i) => console.log(`  ${i + 1}) ${f.fullTitle}:\n     ${f.error.replace(/\n/g, '\n     ')}\n`));
    }
  }
}

async function main(): Promise<number> {
  const entry = codeServerEntry();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-vscode-'));
  const userDataDir = path.join(tmp, 'user-data');
  const extensionsDir = path.join(tmp, 'extensions');
  const resultsFile = path.join(tmp, 'results.jsonl');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir);
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'workbench.startupEditor': 'none',
      'telemetry.telemetryLevel': 'off',
      // MLW_TEST_UNTRUSTED=1 opens the folder in Restricted Mode, for the tests of what needs a trusted workspace.
      'security.workspace.trust.enabled': UNTRUSTED,
    }),
  );
  const workspace = createTestWorkspace();
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
      ...(UNTRUSTED ? [] : ['--disable-workspace-trust']), '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, workspace],
    { env: { ...process.env, [RESULTS_ENV]: resultsFile }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const serverLog = fs.createWriteStream(path.join(tmp, 'code-server.log'));
  server.stdout?.pipe(serverLog);
  server.stderr?.pipe(serverLog);
  let browser: Browser | undefined;
  const report = new Report();
  try {
    await waitForHttp(port, server, 60_000);
    const launched = await launchChromium();
    browser = launched.browser;
    const page = launched.page;
    const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(REPO_ROOT)],
      ['extensionTestsPath', remote(path.join(REPO_ROOT, 'out', 'test', 'vscode', 'index'))],
    ]);
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`);
    console.log(`VS Code suite: code-server on 127.0.0.1:${port}, workspace ${workspace}, logs in ${tmp}`);

    const deadline = Date.now() + SUITE_TIMEOUT_MS;
    let consumed = 0;
    while (!report.ended) {
      if (Date.now() > deadline) throw new Error(`the VS Code suite did not finish within ${SUITE_TIMEOUT_MS / 60000} min`);
      if (server.exitCode !== null) throw new Error(`code-server exited with code ${server.exitCode} before the suite ended`);
      if (fs.existsSync(resultsFile)) {
        const text = fs.readFileSync(resultsFile, 'utf8');
        const complete = text.slice(consumed, text.lastIndexOf('\n') + 1);
        consumed += complete.length;
        for (const line of complete.split('\n').filter(Boolean)) report.print(JSON.parse(line) as ResultEvent);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    report.summary();
    return report.failures.length ? 1 : 0;
  } catch (err) {
    report.summary();
    console.error(`VS Code suite failed to run: ${(err as Error).message}\n(code-server log: ${path.join(tmp, 'code-server.log')})`);
    return 1;
  } finally {
    await browser?.close().catch(() => undefined);
    server.kill('SIGTERM');
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code));
