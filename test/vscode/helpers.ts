import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunRecord, isTerminal } from '../../src/model/runs/run';
import { RunStore } from '../../src/model/runs/runStore';
import type { WorkbenchApi } from '../../src/extension';
import type { RunCommandResult } from '../../src/views/runs/runAsExperiment';

export const EXTENSION_ID = 'ml-workbench.ml-workbench';

export function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the VS Code suite needs a workspace folder (the harness opens the fixture)');
  return folder.uri.fsPath;
}

export function store(): RunStore {
  return new RunStore(workspaceRoot());
}

export async function activateExtension(): Promise<WorkbenchApi> {
  const ext = vscode.extensions.getExtension<WorkbenchApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not installed in this VS Code`);
  return ext.activate();
}

export async function openScript(rel: string): Promise<vscode.Uri> {
  const uri = vscode.Uri.file(path.join(workspaceRoot(), rel));
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  return uri;
}

export async function runCommand(uri?: vscode.Uri): Promise<RunCommandResult> {
  return (await vscode.commands.executeCommand('mlw.runAsExperiment', uri)) as RunCommandResult;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls run.json on disk (what every reader sees) until the run reaches a final status. */
export function waitForEnd(runId: string): Promise<RunRecord> {
  return waitFor(`run ${runId} to end`, async () => {
    const r = await store().get(runId);
    return r && isTerminal(r.status) ? r : undefined;
  });
}

export function readLogs(runId: string): string {
  const file = store().paths(runId).logs;
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/** Containers (any state) carrying a run's label, by asking the real engine. */
export function containersOf(runId: string): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=mlw.run-id=${runId}`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

export async function withSetting<T>(key: string, value: unknown, body: () => Promise<T>): Promise<T> {
  const config = vscode.workspace.getConfiguration('mlw');
  const previous = config.inspect(key)?.workspaceValue;
  await config.update(key, value, vscode.ConfigurationTarget.Workspace);
  try {
    return await body();
  } finally {
    await vscode.workspace.getConfiguration('mlw').update(key, previous, vscode.ConfigurationTarget.Workspace);
  }
}

