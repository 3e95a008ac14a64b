// What every webview does the same way: the message loop (with the host's own messages: error, test:click,
// test:post), the CSP-violation collector whose findings go out with the next ack, the error banner, and the
// ready that starts the handshake. A webview passes handlers for its contract's messages and gets a sender back.
import type { HostToWebview } from '../../src/views/protocol/common';
import { byTestId, h } from './dom';
import { vscodeApi } from './host';

type Handlers<In extends { type: string }> = { [K in Exclude<In, HostToWebview>['type']]: (message: Extract<In, { type: K }>) => void };

export interface Webview<Out> {
  app: HTMLElement;
  send(message: Out): void;
  /** CSP violations seen since the last call (a strict CSP blocking something the page needed). */
  takeViolations(): string[];
  showError(message: string): void;
}

/**
 * Starts a webview: listens for messages (the contract's through `handlers`, the host's here) and says ready.
 * `name` goes into console warnings.
 */
export function bootstrap<In extends { type: string }, Out>(name: string, handlers: (webview: Webview<Out>) => Handlers<In>): Webview<Out> {
  const app = document.getElementById('app') as HTMLElement;
  const violations: string[] = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    violations.push(`CSP blocked ${e.blockedURI || 'inline code'} (${e.violatedDirective})`);
  });
  const webview: Webview<Out> = {
    app,
    send: (message) => vscodeApi.postMessage(message),
    takeViolations: () => violations.splice(0),
    showError(message) {
      const banner = h('div', { class: 'error', role: 'alert', testId: 'error' }, message);
      const existing = byTestId('error');
      if (existing) existing.replaceWith(banner);
      else app.prepend(banner);
    },
  };
  const own = handlers(webview) as Record<string, ((m: unknown) => void) | undefined>;
  window.addEventListener('message', (event: MessageEvent<In | HostToWebview>) => {
    const msg = event.data as HostToWebview | { type?: unknown } | undefined;
    switch (msg?.type) {
      case 'error':
        webview.showError((msg as Extract<HostToWebview, { type: 'error' }>).message);
        break;
      case 'test:click': {
        const testId = (msg as Extract<HostToWebview, { type: 'test:click' }>).testId;
        const el = byTestId(testId);
        if (el) el.click();
        else console.warn(`${name}: nothing to click with data-testid "${testId}"`);
        break;
      }
      case 'test:post':
        vscodeApi.postMessage((msg as Extract<HostToWebview, { type: 'test:post' }>).message);
        break;
      default:
        if (typeof msg?.type === 'string' && Object.hasOwn(own, msg.type)) own[msg.type]?.(msg);
    }
  });
  vscodeApi.postMessage({ type: 'ready' });
  return webview;
}
