/**
 * Loads the built Compare Runs webview (dist/webviews/compare.js + .css) in real Chromium through
 * playwright-core, in the very page the panel serves (webviewPage of comparePage: nonce script only, no 'unsafe-eval'), the CSP
 * also sent as a header, from a fake origin served by request interception. Any other request is refused and
 * recorded, so a test can prove the page needs no network. A stub acquireVsCodeApi (an inline script with the
 * nonce) records what the webview posts. Used by test/browser/compareWebview.test.ts and bench/compareRender.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { CompareState, comparePage } from '../../src/views/protocol/compare';
import { PageContent, webviewPage } from '../../src/views/protocol/common';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const ORIGIN = 'http://mlw-webview.test';
const NONCE = 'TestNonce0123456789abcdefABCDEF0';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.MLW_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface ComparePage {
  page: Page;
  /** Requests the page made to anything but the bundle and its stylesheet. */
  blocked: string[];
  /** securitypolicyviolation events seen in the page, and console errors. */
  violations(): Promise<string[]>;
  consoleErrors: string[];
  /** Messages the webview posted (through the stub acquireVsCodeApi), in order. */
  posted(): Promise<{ type: string; [k: string]: unknown }[]>;
  /** Posts a message to the webview as the extension would. */
  send(message: unknown): Promise<void>;
  /** Waits for the first posted message (after `after` of them) that matches. */
  waitForPosted<T extends { type: string }>(match: (m: T) => boolean, after?: number, timeoutMs?: number): Promise<T>;
}

type PageOptions = { theme?: 'vscode-dark' | 'vscode-light' | 'vscode-high-contrast'; width?: number; height?: number };

export function openComparePage(browser: Browser, o: { runIds: string[]; folder?: string } & PageOptions): Promise<ComparePage> {
  return openWebviewPage(browser, comparePage(o.folder ?? 'file:///workspace', o.runIds), o);
}

/** Any webview's page (its bundle named by `content`), loaded the same way. */
export async function openWebviewPage(browser: Browser, content: PageContent, o: PageOptions = {}): Promise<ComparePage> {
  const context = await browser.newContext({ viewport: { width: o.width ?? 1280, height: o.height ?? 900 } });
  const page = await context.newPage();
  const blocked: string[] = [];
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  const dist = path.join(REPO_ROOT, 'dist', 'webviews');
  const html = webviewPage(content, { nonce: NONCE, cspSource: ORIGIN, resource: (file) => `${ORIGIN}/${file}` })
    // VS Code sets the theme class and --vscode-* variables; a stub acquireVsCodeApi runs first, with the nonce.
    .replace('<body>', `<body class="${o.theme ?? 'vscode-dark'}">\n<script nonce="${NONCE}">${STUB}</script>`)
    .replace('</head>', `<style nonce="${NONCE}">${themeVariables(o.theme ?? 'vscode-dark')}</style>\n</head>`);
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    const file = [`${content.bundle}.js`, `${content.bundle}.css`].find((f) => url === `${ORIGIN}/${f}`);
    if (url === `${ORIGIN}/index.html`) return route.fulfill({ status: 200, contentType: 'text/html', headers: { 'Content-Security-Policy': csp }, body: html });
    if (file) return route.fulfill({ status: 200, contentType: file.endsWith('.js') ? 'text/javascript' : 'text/css', body: fs.readFileSync(path.join(dist, file)) });
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  await page.goto(`${ORIGIN}/index.html`);
  const cp: ComparePage = {
    page,
    blocked,
    consoleErrors,
    violations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations.slice()),
    posted: () => page.evaluate(() => (window as unknown as { __posted: { type: string }[] }).__posted.slice()),
    send: (message) => page.evaluate((m) => window.postMessage(m, '*'), message),
    async waitForPosted<T extends { type: string }>(match: (m: T) => boolean, after = 0, timeoutMs = 20_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = ((await cp.posted()) as unknown as T[]).slice(after).find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`timed out waiting for a message from the webview; got ${JSON.stringify((await cp.posted()).map((m) => m.type))}; errors ${JSON.stringify(consoleErrors)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
  return cp;
}

/** A stand-in for VS Code's acquireVsCodeApi, recording posts and CSP violations. */
const STUB = `
window.__posted = []; window.__postedAt = []; window.__violations = []; window.__state = undefined;
document.addEventListener('securitypolicyviolation', function (e) { window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')); });
window.acquireVsCodeApi = function () {
  return {
    postMessage: function (m) { window.__postedAt.push(performance.now()); window.__posted.push(JSON.parse(JSON.stringify(m))); },
    getState: function () { return window.__state; },
    setState: function (s) { window.__state = s; },
  };
};`;

/** A few of the variables VS Code defines, so theme-dependent code paths run with real values. */
function themeVariables(theme: string): string {
  const dark = theme !== 'vscode-light';
  return `:root {
  --vscode-font-family: sans-serif; --vscode-font-size: 13px;
  --vscode-foreground: ${dark ? '#cccccc' : '#3b3b3b'}; --vscode-editor-background: ${dark ? '#1f1f1f' : '#ffffff'};
  --vscode-descriptionForeground: ${dark ? '#9d9d9d' : '#717171'};
  --vscode-charts-blue: #3794ff; --vscode-charts-orange: #d18616; --vscode-charts-green: #89d185;
  --vscode-charts-red: #f14c4c; --vscode-charts-purple: #b180d7; --vscode-charts-yellow: #cca700;
}`;
}

/** Counts of the line paths drawn per chart, read from the SVGs. */
export async function svgSummary(page: Page): Promise<Record<string, { lines: number; bars: number; points: number; svg: boolean }>> {
  return page.evaluate(() => {
    const out: Record<string, { lines: number; bars: number; points: number; svg: boolean }> = {};
    document.querySelectorAll<HTMLElement>('[data-testid^="chart:"]').forEach((el) => {
      const id = (el.dataset.testid ?? '').slice('chart:'.length);
      out[id] = {
        svg: !!el.querySelector('svg'),
        lines: el.querySelectorAll('g.mark-line path').length,
        bars: el.querySelectorAll('g.mark-rect path').length,
        points: el.querySelectorAll('g.mark-symbol path').length,
      };
    });
    return out;
  });
}

export type { CompareState };
