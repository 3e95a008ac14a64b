import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserFacingError } from '../model/errors';
import { RunRecord, isTerminal } from '../model/run';
import { RunService } from './runService';

/** What the command returns, so callers (tests, other extensions) learn the run id or why there is none. */
export type RunCommandResult = { runId: string } | { error: string };

async function showError(err: unknown): Promise<RunCommandResult> {
  if (err instanceof UserFacingError) {
    const { action } = err;
    void vscode.window.showErrorMessage(err.message, ...(action ? [action.label] : [])).then((picked) => {
      if (picked && action) void vscode.commands.executeCommand(action.command, ...(action.args ?? []));
    });
    return { error: err.message };
  }
  const message = `ML Workbench: unexpected error: ${(err as Error).message ?? err}`;
  void vscode.window.showErrorMessage(message);
  return { error: message };
}

function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  return vscode.window.activeTextEditor?.document.uri;
}

/**
 * "Run as Experiment": saves the script, then submits it with a progress notification that follows the
 * snapshot and environment build until the container starts (cancelling it cancels the run).
 */
export async function runAsExperiment(service: RunService, arg?: unknown): Promise<RunCommandResult> {
  try {
    const uri = targetUri(arg);
    if (!uri) throw new UserFacingError('Open a Python script (or right-click one in the Explorer) to run it as an experiment.');
    if (!vscode.workspace.isTrusted) {
      throw new UserFacingError('Running an experiment executes code from this workspace. Trust the workspace first (Manage Workspace Trust).', {
        label: 'Manage Workspace Trust',
        command: 'workbench.trust.manage',
      });
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    const isPython = doc ? doc.languageId === 'python' : path.extname(uri.fsPath).toLowerCase() === '.py';
    if (!isPython || uri.scheme !== 'file') {
      throw new UserFacingError(`Run as Experiment works on Python scripts (.py) saved on disk; ${path.basename(uri.fsPath)} is not one.`);
    }
    if (!vscode.workspace.workspaceFolders?.length) {
      throw new UserFacingError('Open a folder first (File > Open Folder…): a run takes a snapshot of the workspace folder that holds the script.');
    }
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) {
      throw new UserFacingError(`${uri.fsPath} is not inside an open workspace folder. Add its folder to the workspace (File > Add Folder to Workspace…) to run it.`);
    }
    if (doc?.isDirty && !(await doc.save())) {
      throw new UserFacingError(`Could not save ${path.basename(uri.fsPath)}; save it and try again.`);
    }
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Run ${path.basename(uri.fsPath)}`, cancellable: true },
      async (progress, token) => {
        progress.report({ message: 'taking a snapshot…' });
        let settle: () => void = () => undefined;
        const started = new Promise<void>((resolve) => (settle = resolve));
        const handle = await service.start(folder, uri, [], (run: RunRecord) => {
          if (run.status === 'Running' || isTerminal(run.status)) settle();
        });
        token.onCancellationRequested(() => void handle.cancel());
        progress.report({ message: 'preparing the environment (build output in the ML Workbench channel)…' });
        service.output.channel.show(true);
        await started;
        return { runId: handle.id };
      },
    );
  } catch (err) {
    return showError(err);
  }
}

export async function cancelRun(service: RunService, arg?: unknown): Promise<string | undefined> {
  const runs = service.activeRuns;
  let runId = typeof arg === 'string' ? arg : undefined;
  if (!runId) {
    if (!runs.length) {
      void vscode.window.showInformationMessage('No ML Workbench run is active.');
      return undefined;
    }
    if (runs.length === 1) {
      runId = runs[0].handle.id;
    } else {
      const picked = await vscode.window.showQuickPick(
        runs.map((r) => ({ label: r.script, description: r.handle.id, id: r.handle.id })),
        { title: 'Cancel which run?' },
      );
      runId = picked?.id;
    }
  }
  const run = runs.find((r) => r.handle.id === runId);
  if (!run) {
    if (runId) void vscode.window.showWarningMessage(`Run ${runId} is not active.`);
    return undefined;
  }
  await run.handle.cancel();
  return runId;
}
