import * as vscode from 'vscode';
import { ContextKeys } from '../common/commandIds';
import { Disposable } from '../common/disposable';
import type { RunService } from './runService';
import type { RunsView } from './runsView';

/**
 * Ticks the getting-started steps (package.json walkthroughs, completionEvents `onContext:`) when the step was
 * done however it was done. `onCommand:` events only see commands run from the workbench (palette, menus), not a
 * click on a tree row, a CodeLens, the CLI or one command calling another, so a step stayed open after the user
 * had done it.
 */
export class Walkthrough extends Disposable {
  private readonly done = new Set<string>();

  constructor(runs: RunService, view: RunsView) {
    super();
    this._register(runs.onDidChangeRun(() => this.tick(ContextKeys.walkthroughRan)));
    // Runs made before this window (or by the CLI) count too.
    this._register(view.onDidRefresh(() => view.provider.loadedRuns().length && this.tick(ContextKeys.walkthroughRan)));
  }

  /** Passes `opened` through, ticking "Look inside a run" once it gave a panel. */
  async openedDetails<T>(opened: Promise<T | undefined>): Promise<T | undefined> {
    const panel = await opened;
    if (panel) this.tick(ContextKeys.walkthroughOpenedDetails);
    return panel;
  }

  async compared<T>(opened: Promise<T | undefined>): Promise<T | undefined> {
    const panel = await opened;
    if (panel) this.tick(ContextKeys.walkthroughCompared);
    return panel;
  }

  private tick(key: string): void {
    if (this.done.has(key)) return;
    this.done.add(key);
    void vscode.commands.executeCommand('setContext', key, true);
  }
}
