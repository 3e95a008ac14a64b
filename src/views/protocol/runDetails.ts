/**
 * The contract of the Run details webview, imported by both sides (src/views/details/runDetailsPanel.ts and
 * webviews/runDetails/main.ts). The extension pushes the full state; the webview sends intents, which the
 * extension validates with parseFromWebview before acting on them. Pure: no vscode, no node, no DOM.
 */

import type { MetricGoal } from '../../model/runs/trackingEvents';
import type { OutputPreview } from './runDetailsPreviews';
import type { RunEnvironment, RunStatus } from '../../model/runs/run';
import { DisplayNumber, HostToWebview, PageContent, ReadyMessage, RenderedAck, isCount, isObject, isRunId, isText, parseRendered } from './common';

export type { DisplayNumber, OutputPreview };

export const RUN_DETAILS_VIEW_TYPE = 'mlw.runDetails';

export interface MetricSummary {
  name: string;
  /** Last value logged (by arrival order), as in the run record. */
  last: DisplayNumber;
  /** Over the finite values; absent when there is none. */
  min?: number;
  max?: number;
  /** Every point logged, before downsampling. */
  points: number;
  goal?: MetricGoal;
  /**
   * Where the goal came from: the script (mlw.log_metric(..., goal=)), the mlw.metricGoals setting, or inferred
   * from the name (loss/error… lower, else higher), which the Goal column says.
   */
  goalSource?: 'script' | 'setting' | 'inferred';
  /** The best value by the goal (max or min), when the goal is known. */
  best?: number;
  /** What the sparkline draws: finite points, downsampled (first, last, minimum and maximum always kept). */
  series: { x: number; y: number }[];
  /** "step" when every point had a step, else "index" (the order points were logged in). */
  xKind: 'step' | 'index';
}

export interface OutputItem {
  /** Relative to the run's outputs folder, forward slashes. */
  path: string;
  size: number;
}

export interface TimelineEntry {
  label: 'Created' | 'Started' | 'Ended';
  at: string;
  /** Milliseconds since createdAt. */
  offsetMs: number;
}

export interface RunDetailsState {
  runId: string;
  shortId: string;
  /** Workspace folder URI (string), so a revived panel finds the same store. */
  folder: string;
  folderName: string;
  title: string;
  summary: {
    status: RunStatus;
    terminal: boolean;
    reason?: string;
    script: string;
    args: string[];
    configName?: string;
    createdAt: string;
    startedAt?: string;
    endedAt?: string;
    /** A failed run's last Python traceback in its logs, shown next to the reason. */
    traceback?: string;
    /** Only once the run ended (the webview counts a live run's duration up from startedAt). */
    durationMs?: number;
    duration: string;
    exitCode?: number;
    parentId?: string;
    name?: string;
    labels?: string[];
    starred?: boolean;
  };
  params: { name: string; value: string }[];
  tags: { name: string; value: string }[];
  metrics: MetricSummary[];
  outputs: OutputItem[];
  /** Inline previews of some outputs (images, CSV and JSON tables), and the ones only listed (too large, too many). */
  previews: OutputPreview[];
  /** Outputs left out of the list, with why (links leading outside, special files). */
  skippedOutputs: { path: string; reason: string }[];
  git?: {
    commit: string;
    branch: string;
    remote?: string;
    dirty: boolean;
    untracked: string[];
    hasPatch: boolean;
  };
  environment?: RunEnvironment & { fileAvailable: boolean };
  hasBuildLog: boolean;
  hasLogs: boolean;
  timeline: TimelineEntry[];
  /** Lines of events.jsonl that were not valid events. */
  trackingSkippedLines: number;
}

/** What a panel shows once its run was deleted: nothing of the run is kept. */
export interface DeletedRunState {
  deleted: true;
  runId: string;
  folder: string;
  folderName: string;
  title: string;
  message: string;
}

/** What the panel shows: the run, or that it was deleted. */
export type RunDetailsView = RunDetailsState | DeletedRunState;

export function isDeletedRun(view: RunDetailsView): view is DeletedRunState {
  return (view as DeletedRunState).deleted === true;
}

export type ToWebview = { type: 'state'; version: number; state: RunDetailsView } | HostToWebview;

/** The buttons of a run's header; the host runs the command of the same name (Commands in commandIds.ts). */
export type RunAction = 'cancel' | 'rerun' | 'modifyAndRerun' | 'star' | 'unstar' | 'delete';
export const RUN_ACTIONS: readonly RunAction[] = ['cancel', 'rerun', 'modifyAndRerun', 'star', 'unstar', 'delete'];

export type OpenFileTarget = 'patch' | 'buildLog' | 'logs' | 'environmentFile';
const OPEN_FILE_TARGETS: readonly OpenFileTarget[] = ['patch', 'buildLog', 'logs', 'environmentFile'];

export type FromWebview =
  | ReadyMessage
  | { type: 'openOutput'; path: string }
  | { type: 'revealOutput'; path: string }
  | { type: 'showDiff' }
  | { type: 'openRun'; id: string }
  | { type: 'openFile'; which: OpenFileTarget }
  | { type: 'runAction'; action: RunAction }
  /**
   * Sent after every render: how many sparklines and step charts were drawn and images shown, for which state,
   * and what went wrong if anything.
   */
  | (RenderedAck & { sparklines: number; charts: number; images: number });

/**
 * A message from the webview as a FromWebview, or undefined when it is not one (unknown type, missing or
 * wrongly typed field). Only the known fields are copied, so nothing else travels further.
 */
export function parseFromWebview(msg: unknown): FromWebview | undefined {
  if (!isObject(msg)) return undefined;
  const m = msg;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'showDiff':
      return { type: 'showDiff' };
    case 'openOutput':
    case 'revealOutput':
      return isText(m.path) ? { type: m.type, path: m.path } : undefined;
    case 'openRun':
      return isRunId(m.id) ? { type: 'openRun', id: m.id } : undefined;
    case 'openFile':
      return typeof m.which === 'string' && (OPEN_FILE_TARGETS as readonly string[]).includes(m.which)
        ? { type: 'openFile', which: m.which as OpenFileTarget }
        : undefined;
    case 'runAction':
      return typeof m.action === 'string' && (RUN_ACTIONS as readonly string[]).includes(m.action) ? { type: 'runAction', action: m.action as RunAction } : undefined;
    case 'rendered':
      return parseRendered(m, isCount(m.sparklines) && isCount(m.charts) && isCount(m.images) ? { sparklines: m.sparklines, charts: m.charts, images: m.images } : undefined);
    default:
      return undefined;
  }
}

/** What the webview keeps across reloads (vscodeApi.setState) and the serializer gets back. */
export interface RunDetailsWebviewState {
  runId: string;
  folder: string;
}

export function parseWebviewState(state: unknown): RunDetailsWebviewState | undefined {
  if (!isObject(state)) return undefined;
  return isRunId(state.runId) && isText(state.folder) ? { runId: state.runId, folder: state.folder } : undefined;
}

/** The page of a run's panel (the host adds the CSP, nonce and bundle links). */
export function runDetailsPage(runId: string, folder: string): PageContent {
  return {
    bundle: 'runDetails',
    title: `Run ${runId.slice(-4)}`,
    data: { 'run-id': runId, folder: encodeURIComponent(folder) },
    loading: `Loading run ${runId}…`,
  };
}
