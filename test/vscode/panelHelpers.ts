import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { waitFor } from './helpers';

export const WEBVIEW_TIMEOUT_MS = 30_000;

/** What every panel (PanelHost) exposes for tests: state sent, render acks, handled messages. */
export interface TestablePanel<State, Handled extends { message: unknown }, Rendered extends { version: number } = { version: number }> {
  readonly lastState?: State;
  readonly stateVersion: number;
  readonly lastRendered?: Rendered;
  readonly onDidHandleMessage: vscode.Event<Handled>;
  postTest(message: { type: 'test:post'; message: unknown }): Thenable<boolean>;
}

export function waitForState<S, H extends { message: unknown }>(panel: TestablePanel<S, H>, what: string, ok: (s: S) => boolean, timeoutMs = 120_000): Promise<S> {
  return waitFor(what, async () => (panel.lastState && ok(panel.lastState) ? panel.lastState : undefined), timeoutMs);
}

/** Waits until the webview acknowledged rendering the latest state it was sent. */
export function waitForRender<S, H extends { message: unknown }, R extends { version: number }>(panel: TestablePanel<S, H, R>): Promise<R> {
  return waitFor(
    'the webview to render the latest state',
    async () => (panel.stateVersion > 0 && panel.lastRendered?.version === panel.stateVersion ? panel.lastRendered : undefined),
    WEBVIEW_TIMEOUT_MS,
  );
}

/** Resolves with the next message the panel handled that matches. */
export function nextHandled<S, H extends { message: unknown }>(panel: TestablePanel<S, H>, match: (h: H) => boolean): Promise<H> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error('timed out waiting for the panel to handle a message from the webview'));
    }, WEBVIEW_TIMEOUT_MS);
    const sub = panel.onDidHandleMessage((h) => {
      if (!match(h)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(h);
    });
  });
}

/** Asks the webview to post `message` as is, and returns how the panel handled it. */
export async function postFromWebview<S, H extends { message: unknown }>(panel: TestablePanel<S, H>, message: unknown): Promise<H> {
  const handled = nextHandled(panel, (h) => JSON.stringify(h.message) === JSON.stringify(message));
  await panel.postTest({ type: 'test:post', message });
  return handled;
}

/**
 * Checks a panel's page: default-src none, nonce-only scripts (also on the script tag), no eval or inline code,
 * no source but the webview's own resource origin, and resource roots limited to the bundle folder.
 */
export function assertStrictPage(panel: { readonly html: string; readonly panel: vscode.WebviewPanel }, extensionUri: vscode.Uri): void {
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(panel.html)?.[1] ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-[A-Za-z0-9]+'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline/);
  assert.doesNotMatch(csp.split(panel.panel.webview.cspSource).join(''), /https?:|\*/);
  const nonce = /'nonce-([A-Za-z0-9]+)'/.exec(csp)?.[1];
  assert.ok(panel.html.includes(`<script nonce="${nonce}"`), 'the script carries the nonce');
  const roots = panel.panel.webview.options.localResourceRoots ?? [];
  assert.deepEqual(roots.map((r) => r.path), [vscode.Uri.joinPath(extensionUri, 'dist', 'webviews').path]);
}
