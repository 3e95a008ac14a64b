/**
 * The one lifecycle of ML Workbench's webview panels (run details, compare): webview options, the page under
 * the strict CSP, the ready handshake, versioned state pushes, parse → act → outcome for every message, a
 * debounced refresh that never overlaps and waits while the panel is hidden, the live poll, and disposal.
 * A panel supplies its view type, page, message parser, state loader and actions by extending PanelHost.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { Disposable, DisposableLike, toDisposable } from './disposable';
import type { WorkspaceRuns } from './workspaceRuns';
import { HandledMessage, HostToWebview, PageContent, RenderedAck, TestClick, TestPost, webviewPage } from '../protocol/common';

export type PanelLog = Pick<vscode.LogOutputChannel, 'info' | 'warn' | 'error'>;

/** What the composition root gives each kind of panel. */
export interface PanelContext {
  extensionUri: vscode.Uri;
  runs: WorkspaceRuns;
  log: PanelLog;
}

export const REFRESH_DEBOUNCE_MS = 250;
/**
 * While a run is live, panels also re-read this often: the change feed reports run records and tracking
 * events, not the logs and outputs a run writes, and file watchers can miss events (remote or network file systems).
 */
export const LIVE_POLL_MS = 2000;

/** A fresh CSP nonce per page load, from the OS's random source. */
export function nonce(): string {
  return randomBytes(16).toString('hex');
}

/** Scripts on, command links off, and nothing loadable but the webview bundle. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webviews')],
  };
}

/** What a panel's loader read: the state, and what the host does with it. */
export interface Loaded<State> {
  state: State;
  title: string;
  /** Something shown is still changing (a live run): keep polling. */
  live: boolean;
  /** Loads with the key last pushed need no new state (default: the state's JSON). */
  key?: string;
  /** After this state was pushed as the webview's new full state. */
  onPushed?(): void;
  /** When the key had been pushed already: the chance to send something smaller (compare's appends). */
  onUnchanged?(): Promise<void>;
}

export interface PanelSpec<Intent> {
  viewType: string;
  /** In log lines and error messages: "run details of 20261125-…", "compare panel". */
  name: string;
  page: PageContent;
  parse(raw: unknown): Intent | undefined;
  extensionUri: vscode.Uri;
  log: PanelLog;
}

type HostIntent = { type: 'ready' } | RenderedAck;

export abstract class PanelHost<State, Intent extends { type: string }, Out extends { type: string }> extends Disposable {
  protected readonly log: PanelLog;
  private readonly spec: PanelSpec<Intent>;
  private readonly messages = this._register(new vscode.EventEmitter<Intent>());
  private readonly handled = this._register(new vscode.EventEmitter<HandledMessage<Intent>>());
  private readonly posted = this._register(new vscode.EventEmitter<Out | HostToWebview>());
  private readonly refreshed = this._register(new vscode.EventEmitter<State>());
  /** Valid messages from the webview, before they are acted on. */
  readonly onDidReceiveMessage = this.messages.event;
  /** Every message from the webview once handled: done, refused (valid but not allowed), invalid, or failed. */
  readonly onDidHandleMessage = this.handled.event;
  /** Every message posted to the webview (state, append, …), for tests. */
  readonly onDidPost = this.posted.event;
  /** After every load of the state (pushed or not). */
  readonly onDidRefresh = this.refreshed.event;

  private _lastState?: State;
  private _lastRendered?: Extract<Intent, { type: 'rendered' }>;
  private version = 0;
  private pushedKey: string | undefined;
  private ready = false;
  /** A refresh was asked for while hidden: done when shown. */
  private stale = false;
  private refreshTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private trailingTimer?: NodeJS.Timeout;
  private refreshing: Promise<unknown> = Promise.resolve();
  private held?: DisposableLike;

  protected constructor(readonly panel: vscode.WebviewPanel, spec: PanelSpec<Intent>) {
    super();
    this.spec = spec;
    this.log = spec.log;
    // Also for a panel VS Code restored: its options are not kept across reloads.
    panel.webview.options = webviewOptions(spec.extensionUri);
    panel.webview.html = this.page(spec.page);
    this._register(toDisposable(() => {
      clearTimeout(this.refreshTimer);
      clearTimeout(this.trailingTimer);
      clearInterval(this.pollTimer);
      this.held?.dispose();
      this.held = undefined;
      panel.dispose();
    }));
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register(panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)));
    this._register(panel.onDidChangeViewState(() => this.visibilityChanged()));
  }

  /** Starts the panel once the subclass is set up: holds the watch while visible and loads the first state. */
  protected start(): void {
    if (this.panel.visible) this.held = this.whileVisible();
    this.scheduleRefresh(0);
  }

  /** Held while the panel is visible (the folder's watcher and Docker events); disposed when hidden. */
  protected abstract whileVisible(): DisposableLike | undefined;
  /** Reads the state; undefined when there is none to show (the loader posted an error). */
  protected abstract load(): Promise<Loaded<State> | undefined>;
  /** Carries out an intent; returns why it was refused, or undefined when done. */
  protected abstract act(intent: Exclude<Intent, HostIntent>): Promise<string | undefined>;

  get lastState(): State | undefined {
    return this._lastState;
  }

  /** The webview's last render acknowledgement (what it drew, for which state version, errors). */
  get lastRendered(): Extract<Intent, { type: 'rendered' }> | undefined {
    return this._lastRendered;
  }

  /** Version of the last state posted to the webview (the `rendered` ack echoes it). */
  get stateVersion(): number {
    return this.version;
  }

  get html(): string {
    return this.panel.webview.html;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Tests only: ask the webview to click an element, or to post a message back as is. */
  postTest(message: TestClick | TestPost): Thenable<boolean> {
    return this.post(message);
  }

  protected post(message: Out | HostToWebview): Thenable<boolean> {
    this.posted.fire(message);
    return this.panel.webview.postMessage(message);
  }

  /** Swaps what is held while visible (the panel now shows another folder's runs). */
  protected rewatch(): void {
    this.held?.dispose();
    this.held = this.panel.visible && !this.isDisposed ? this.whileVisible() : undefined;
  }

  /**
   * Debounced: a burst of changes makes one refresh. `full` pushes the whole state even when unchanged. A hidden
   * webview is not there to receive state: the refresh waits until it is shown.
   */
  scheduleRefresh(delay = REFRESH_DEBOUNCE_MS, full = false): void {
    if (this.isDisposed) return;
    if (full) this.pushedKey = undefined;
    if (!this.panel.visible) {
      this.stale = true;
      return;
    }
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, delay);
  }

  /** Loads the state and pushes it when it changed; refreshes never overlap. */
  refresh(): Promise<State | undefined> {
    const next = this.refreshing.then(() => this.update());
    this.refreshing = next.then(
      () => undefined,
      (err) => this.log.error(`refresh of the ${this.spec.name} failed: ${(err as Error).message}`),
    );
    return next;
  }

  private async update(): Promise<State | undefined> {
    if (this.isDisposed) return undefined;
    const loaded = await this.load();
    if (!loaded || this.isDisposed) return loaded?.state;
    const { state } = loaded;
    this._lastState = state;
    this.panel.title = loaded.title;
    this.livePoll(loaded.live);
    this.refreshed.fire(state);
    if (!this.ready) return state;
    const key = loaded.key ?? JSON.stringify(state);
    if (key !== this.pushedKey) {
      this.pushedKey = key;
      this.version++;
      loaded.onPushed?.();
      await this.post({ type: 'state', version: this.version, state } as unknown as Out);
    } else {
      await loaded.onUnchanged?.();
    }
    return state;
  }

  private livePoll(on: boolean): void {
    if (on && !this.pollTimer) {
      clearTimeout(this.trailingTimer);
      this.pollTimer = setInterval(() => this.scheduleRefresh(0), LIVE_POLL_MS);
    } else if (!on && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
      // One more look after the end: what a run leaves (outputs, logs) may land after the record that says it ended.
      this.trailingTimer = setTimeout(() => this.scheduleRefresh(0), LIVE_POLL_MS);
    }
  }

  private visibilityChanged(): void {
    if (this.isDisposed) return;
    if (!this.panel.visible) {
      // Without retainContextWhenHidden the page goes away when hidden and says ready again when shown.
      this.ready = false;
      this.held?.dispose();
      this.held = undefined;
      return;
    }
    this.held ??= this.whileVisible();
    if (this.stale) {
      this.stale = false;
      this.scheduleRefresh(0);
    }
  }

  private async receive(raw: unknown): Promise<void> {
    const intent = this.spec.parse(raw);
    if (!intent) {
      const detail = `ignored an invalid message from the ${this.spec.name}: ${JSON.stringify(raw)?.slice(0, 200)}`;
      this.log.warn(detail);
      this.handled.fire({ message: raw, outcome: 'invalid', detail });
      return;
    }
    this.messages.fire(intent);
    try {
      const refusal = await this.handle(intent);
      if (refusal) {
        this.log.warn(`refused ${intent.type} from the ${this.spec.name}: ${refusal}`);
        void vscode.window.showWarningMessage(refusal);
      }
      this.handled.fire({ message: raw, intent, outcome: refusal ? 'refused' : 'done', detail: refusal });
    } catch (err) {
      const detail = (err as Error).message ?? String(err);
      this.log.error(`${intent.type} failed in the ${this.spec.name}: ${detail}`);
      void vscode.window.showErrorMessage(`ML Workbench: ${detail}`);
      this.handled.fire({ message: raw, intent, outcome: 'failed', detail });
    }
  }

  private async handle(intent: Intent): Promise<string | undefined> {
    const host = intent as unknown as HostIntent;
    if (host.type === 'ready') {
      this.ready = true;
      this.pushedKey = undefined;
      await this.refresh();
      return undefined;
    }
    if (host.type === 'rendered') {
      this._lastRendered = intent as Extract<Intent, { type: 'rendered' }>;
      if (host.errors?.length) this.log.warn(`${this.spec.name} rendered with errors: ${host.errors.join('; ')}`);
      return undefined;
    }
    return this.act(intent as Exclude<Intent, HostIntent>);
  }

  private page(content: PageContent): string {
    const webview = this.panel.webview;
    const root = vscode.Uri.joinPath(this.spec.extensionUri, 'dist', 'webviews');
    return webviewPage(content, {
      nonce: nonce(),
      cspSource: webview.cspSource,
      resource: (file) => webview.asWebviewUri(vscode.Uri.joinPath(root, file)).toString(),
    });
  }
}

/** A new panel of this view type, with the host's webview options. */
export function createWebviewPanel(viewType: string, title: string, extensionUri: vscode.Uri): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Active, webviewOptions(extensionUri));
}

/**
 * Registers the serializer that restores a kind of panel after a window reload, from the state its webview
 * saved; `revive` disposes the panel when that state no longer leads anywhere.
 */
export function registerPanelSerializer(viewType: string, revive: (panel: vscode.WebviewPanel, state: unknown) => Promise<unknown>): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(viewType, {
    deserializeWebviewPanel: async (panel, state) => {
      await revive(panel, state);
    },
  });
}
