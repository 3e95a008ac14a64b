import type { RunDetailsPanel, RunDetailsPanels } from '../details/runDetailsPanel';
import type { FolderRuns } from '../common/workspaceRuns';

/**
 * The second open of the same row within this time is the double click: the workbench runs a tree row's command
 * on the first click and again on the double click (never on the double click's second click).
 */
export const DOUBLE_CLICK_MS = 500;

/**
 * Run details opened from the Runs view as the explorer opens files: a single click shows the run in the
 * preview panel, which the next single click on another run replaces; a double click (or Open Run Details from
 * a menu or the palette) pins it, so later clicks open beside it. Webview panels have no preview mode of their
 * own, so the preview is the one unpinned panel this keeps.
 */
export class RunDetailsPreview {
  private previewId: string | undefined;
  private last: { id: string; at: number } | undefined;

  constructor(private readonly panels: RunDetailsPanels) {}

  /** The run shown in the preview panel, if one is open. */
  get preview(): string | undefined {
    return this.previewId && this.panels.current(this.previewId) ? this.previewId : undefined;
  }

  isPinned(runId: string): boolean {
    return !!this.panels.current(runId) && this.preview !== runId;
  }

  /** A click on a run row (`now` for tests). */
  click(owner: FolderRuns, runId: string, now = Date.now()): RunDetailsPanel {
    const doubleClick = this.last?.id === runId && now - this.last.at <= DOUBLE_CLICK_MS;
    this.last = { id: runId, at: now };
    const existing = this.panels.current(runId);
    if (existing) {
      if (doubleClick) this.pin(runId);
      existing.panel.reveal(undefined, !doubleClick);
      return existing;
    }
    const replaced = this.preview ? this.panels.current(this.preview) : undefined;
    const panel = this.panels.show(owner, runId);
    this.previewId = doubleClick ? undefined : runId;
    replaced?.dispose();
    return panel;
  }

  /** Keeps the run's panel open when other runs are clicked. */
  pin(runId: string): void {
    if (this.previewId === runId) this.previewId = undefined;
  }
}
