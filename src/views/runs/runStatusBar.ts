import * as vscode from 'vscode';
import { Commands, ContextKeys } from '../common/commandIds';

/** Shows how many runs are active while any is; hidden otherwise. Also drives the `mlw.hasActiveRuns` context key. */
export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('mlw.activeRuns', vscode.StatusBarAlignment.Left, 50);

  constructor() {
    this.item.name = 'ML Workbench: active runs';
    this.item.command = Commands.showLogs;
  }

  update(activeScripts: string[]): void {
    const n = activeScripts.length;
    void vscode.commands.executeCommand('setContext', ContextKeys.hasActiveRuns, n > 0);
    if (!n) {
      this.item.hide();
      return;
    }
    this.item.text = `$(sync~spin) ${n === 1 ? '1 run' : `${n} runs`}`;
    this.item.tooltip = `ML Workbench — running: ${activeScripts.join(', ')}\nClick to show logs; "ML Workbench: Cancel Run" stops one.`;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
