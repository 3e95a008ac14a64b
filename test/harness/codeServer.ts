/**
 * Small helpers to serve the extension in a real code-server 4.100.3 (VS Code 1.100.3), with the extension
 * linked from this checkout as scripts/demo.sh does or installed from a .vsix as a user would, and to open it in
 * Debian's Chromium. Used by the end-to-end UI tests in test/e2e (the in-editor suite shares freePort,
 * waitForHttp, codeServerEntry and launchChromium).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { REPO_ROOT } from './testWorkspace';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function waitForHttp(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer on 127.0.0.1:${port} within ${timeoutMs / 1000} s`);
}

/** code-server's entry.js: MLW_CODE_SERVER, else whatever scripts/code-server.sh installs and prints. */
export function codeServerEntry(): string {
  if (process.env.MLW_CODE_SERVER) return process.env.MLW_CODE_SERVER;
  return execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** Links this checkout into `extensionsDir` and registers it in extensions.json, as scripts/demo.sh does. */
export function installExtensionFromCheckout(extensionsDir: string): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; publisher: string; version: string };
  const id = `${pkg.publisher}.${pkg.name}`;
  const rel = `${id}-${pkg.version}`;
  const dir = path.join(extensionsDir, rel);
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.symlinkSync(REPO_ROOT, dir);
  fs.writeFileSync(
    path.join(extensionsDir, 'extensions.json'),
    JSON.stringify([{ identifier: { id }, version: pkg.version, location: { $mid: 1, path: dir, scheme: 'file' }, relativeLocation: rel, metadata: { source: 'vsix' } }]),
  );
}

/**
 * `code-server --install-extension <vsix>` into `extensionsDir`: the path users take, so the package (its
 * .vscodeignore, its bundles) is what runs. Returns the installed extension's folder.
 */
export function installExtensionFromVsix(vsix: string, extensionsDir: string): string {
  const out = execFileSync(process.execPath, [codeServerEntry(), '--extensions-dir', extensionsDir, '--install-extension', vsix], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; publisher: string; version: string };
  const dir = path.join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  if (!fs.existsSync(path.join(dir, 'package.json'))) throw new Error(`--install-extension did not install into ${dir}:\n${out}`);
  return dir;
}

export interface CodeServerOptions {
  /** Install this .vsix (code-server --install-extension) instead of linking the checkout. */
  vsix?: string;
  /** User settings on top of the test defaults (a colour theme, say). */
  settings?: Record<string, unknown>;
}

export interface CodeServer {
  port: number;
  tmp: string;
  logFile: string;
  extensionsDir: string;
  url(folder: string): string;
  stop(): Promise<void>;
}

/** Starts code-server on a free 127.0.0.1 port, fresh user data and extensions, the extension from the checkout or a .vsix. */
export async function startCodeServer(workspace: string, options: CodeServerOptions = {}): Promise<CodeServer> {
  const entry = codeServerEntry();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-e2e-'));
  const userDataDir = path.join(tmp, 'user-data');
  const extensionsDir = path.join(tmp, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'security.workspace.trust.enabled': false,
      ...options.settings,
    }),
  );
  try {
    if (options.vsix) installExtensionFromVsix(options.vsix, extensionsDir);
    else installExtensionFromCheckout(extensionsDir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const port = await freePort();
  const logFile = path.join(tmp, 'code-server.log');
  const server = spawn(
    process.execPath,
    [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
      '--disable-workspace-trust', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, workspace],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = fs.createWriteStream(logFile);
  server.stdout?.pipe(log);
  server.stderr?.pipe(log);
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await waitForHttp(port, server, 60_000);
  } catch (err) {
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
    await stop();
    throw new Error(`${(err as Error).message}\n${tail}`);
  }
  return { port, tmp, logFile, extensionsDir, url: (folder) => `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`, stop };
}

export async function launchChromium(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: process.env.MLW_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  return { browser, page };
}
