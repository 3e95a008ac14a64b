import * as vscode from 'vscode';

export interface WorkbenchSettings {
  baseImage: string;
  snapshotMaxBytes: number;
  dockerHost: string;
  maxConcurrentRuns: number;
}

/** Reads the `mlw.*` settings that apply to a workspace folder. */
export function readSettings(scope?: vscode.Uri): WorkbenchSettings {
  const c = vscode.workspace.getConfiguration('mlw', scope);
  return {
    baseImage: c.get<string>('baseImage', 'python:3.12-slim').trim() || 'python:3.12-slim',
    snapshotMaxBytes: Math.max(1, c.get<number>('snapshotMaxMB', 200)) * 1024 * 1024,
    dockerHost: c.get<string>('dockerHost', '').trim(),
    maxConcurrentRuns: Math.max(1, Math.floor(c.get<number>('maxConcurrentRuns', 2))),
  };
}
