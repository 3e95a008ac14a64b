/**
 * Loads the built Run details webview (dist/webviews/runDetails.js + .css) in real Chromium, in the page the
 * panel serves (webviewPage of runDetailsPage: the strict CSP, also sent as a header), from a fake origin. Any
 * request but the bundle is refused and recorded. A stub acquireVsCodeApi records what the webview posts.
 * Chromium is launched as the compare tests launch it (comparePage.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { webviewPage } from '../../src/views/protocol/common';
import { runDetailsPage } from '../../src/views/protocol/runDetails';
import { REPO_ROOT } from './comparePage';

const ORIGIN = 'http://mlw-webview.test';
const NONCE = 'DetailsNonce0123456789abcdefABCD';
const STUB = `window.__posted = []; window.__violations = []; window.__state = 'unset';
document.addEventListener('securitypolicyviolation', function (e) { window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')); });
window.acquireVsCodeApi = function () { return {
  postMessage: function (m) { window.__posted.push(JSON.parse(JSON.stringify(m))); },
  getState: function () { return window.__state; }, setState: function (s) { window.__state = s; } }; };`;
const THEME = ':root { --vscode-font-family: sans-serif; --vscode-foreground: #cccccc; --vscode-editor-background: #1f1f1f; --vscode-descriptionForeground: #9d9d9d; --vscode-charts-blue: #3794ff; --vscode-charts-orange: #d18616; }';

export interface DetailsPage {
  page: Page;
  blocked: string[];
  consoleErrors: string[];
  posted(): Promise<{ type: string; [k: string]: unknown }[]>;
  violations(): Promise<string[]>;
  send(message: unknown): Promise<void>;
  waitForPosted<T extends { type: string }>(match: (m: T) => boolean, after?: number): Promise<T>;
}

export async function openDetailsPage(browser: Browser, runId: string): Promise<DetailsPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const blocked: string[] = [];
  const consoleErrors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  const html = webviewPage(runDetailsPage(runId, 'file:///workspace'), { nonce: NONCE, cspSource: ORIGIN, resource: (file) => `${ORIGIN}/${file}` })
    .replace('<body>', `<body class="vscode-dark">\n<script nonce="${NONCE}">${STUB}</script>`)
    .replace('</head>', `<style nonce="${NONCE}">${THEME}</style>\n</head>`);
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
  const dist = path.join(REPO_ROOT, 'dist', 'webviews');
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === `${ORIGIN}/index.html`) return route.fulfill({ status: 200, contentType: 'text/html', headers: { 'Content-Security-Policy': csp }, body: html });
    const file = ['runDetails.js', 'runDetails.css'].find((f) => url === `${ORIGIN}/${f}`);
    if (file) return route.fulfill({ status: 200, contentType: file.endsWith('.js') ? 'text/javascript' : 'text/css', body: fs.readFileSync(path.join(dist, file)) });
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  await page.goto(`${ORIGIN}/index.html`);
  const dp: DetailsPage = {
    page,
    blocked,
    consoleErrors,
    posted: () => page.evaluate(() => (window as unknown as { __posted: { type: string }[] }).__posted.slice()),
    violations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations.slice()),
    send: (message) => page.evaluate((m) => window.postMessage(m, '*'), message),
    async waitForPosted<T extends { type: string }>(match: (m: T) => boolean, after = 0): Promise<T> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const found = ((await dp.posted()) as unknown as T[]).slice(after).find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`timed out waiting for a message; got ${JSON.stringify(await dp.posted())}; errors ${JSON.stringify(consoleErrors)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
  return dp;
}
