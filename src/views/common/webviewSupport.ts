import { randomBytes } from 'node:crypto';
import type * as vscode from 'vscode';

/** What happened to a message from a webview (for logs and tests). */
export interface HandledMessage<Intent> {
  message: unknown;
  intent?: Intent;
  outcome: 'done' | 'refused' | 'invalid' | 'failed';
  detail?: string;
}

export type PanelLog = Pick<vscode.LogOutputChannel, 'info' | 'warn' | 'error'>;

export const REFRESH_DEBOUNCE_MS = 250;
/** While a run is live, panels also re-read this often: file watchers can miss events (remote or network file systems). */
export const LIVE_POLL_MS = 2000;

/** A fresh CSP nonce per page load, from the OS's random source. */
export function nonce(): string {
  return randomBytes(16).toString('hex');
}
