/**
 * The experiments table's message contract: the extension pushes every run of a folder as rows (from the run
 * index) with the remembered column layout; the webview filters, sorts and scrolls them itself (the query is
 * pure, src/model/runs/runQuery.ts) and sends intents: a new layout to remember, an action on selected runs, an
 * export of what it shows. Incoming messages are parsed into known fields with caps.
 */
import { ColumnLayout, QueryRow, SortOrder, TableColumn } from '../../model/runs/runQuery';
import { HostToWebview, PageContent, ReadyMessage, RenderedAck, isCount, isNames, isObject, isRunId, isText, parseRendered } from './common';

export * from '../../model/runs/runQuery';

export const EXPERIMENTS_TABLE_VIEW_TYPE = 'mlw.experimentsTable';

/**
 * What a row action does is the panel's business (a table of commands there); here only the names, so adding
 * one (issue 11's "Register Model…") is one entry in each list. `min` is how many selected runs it needs.
 */
export const ROW_ACTIONS = {
  openDetails: { label: 'Open', min: 1, max: 1 },
  compare: { label: 'Compare', min: 2, max: 1000 },
  star: { label: 'Star', min: 1, max: 10_000 },
  unstar: { label: 'Unstar', min: 1, max: 10_000 },
  label: { label: 'Label…', min: 1, max: 10_000 },
  rerun: { label: 'Rerun', min: 1, max: 20 },
  registerModel: { label: 'Register Model…', min: 1, max: 1 },
  delete: { label: 'Delete…', min: 1, max: 10_000 },
} as const;

export type RowAction = keyof typeof ROW_ACTIONS;

export function isRowAction(v: unknown): v is RowAction {
  return typeof v === 'string' && Object.hasOwn(ROW_ACTIONS, v);
}

/** What the table remembers per workspace folder: the layout, the filters (as typed) and the sort. */
export interface TableView {
  layout: ColumnLayout;
  filters: string[];
  sort?: SortOrder;
}

export const EMPTY_VIEW: TableView = { layout: { order: [], hidden: [], pinned: [] }, filters: [] };

export interface ExperimentsTableState {
  folder: string;
  folderName: string;
  columns: TableColumn[];
  /** Newest first, as the run index lists them. */
  rows: QueryRow[];
  view: TableView;
}

export type ToWebview = { type: 'state'; version: number; state: ExperimentsTableState } | HostToWebview;

export type FromWebview =
  | ReadyMessage
  /** Sent after every render of a state: rows the view shows and rows in the DOM (virtualised), and how long it took. */
  | (RenderedAck & { rows: number; domRows: number; ms: number })
  | { type: 'setView'; view: TableView }
  | { type: 'action'; action: RowAction; ids: string[] }
  /** The shown rows (in order) and columns (by key) as CSV. */
  | { type: 'exportCsv'; ids: string[]; columns: string[] };

const MAX_IDS = 100_000;

function isIds(v: unknown): v is string[] {
  return Array.isArray(v) && v.length <= MAX_IDS && v.every(isRunId);
}

export function parseView(v: unknown): TableView | undefined {
  if (!isObject(v) || !isObject(v.layout)) return undefined;
  const l = v.layout;
  if (!isNames(l.order, 5000) || !isNames(l.hidden, 5000) || !isNames(l.pinned, 5000) || !isNames(v.filters, 50)) return undefined;
  const view: TableView = { layout: { order: l.order.slice(), hidden: l.hidden.slice(), pinned: l.pinned.slice() }, filters: (v.filters as string[]).slice() };
  if (v.sort !== undefined) {
    if (!isObject(v.sort) || !isText(v.sort.column, 1100) || typeof v.sort.descending !== 'boolean') return undefined;
    view.sort = { column: v.sort.column, descending: v.sort.descending };
  }
  return view;
}

export function parseFromWebview(msg: unknown): FromWebview | undefined {
  if (!isObject(msg)) return undefined;
  const m = msg;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'rendered':
      if (!isCount(m.rows) || !isCount(m.domRows) || typeof m.ms !== 'number' || !Number.isFinite(m.ms)) return undefined;
      return parseRendered(m, { rows: m.rows, domRows: m.domRows, ms: m.ms });
    case 'setView': {
      const view = parseView(m.view);
      return view ? { type: 'setView', view } : undefined;
    }
    case 'action': {
      if (!isRowAction(m.action) || !isIds(m.ids)) return undefined;
      const { min, max } = ROW_ACTIONS[m.action];
      return m.ids.length >= min && m.ids.length <= max ? { type: 'action', action: m.action, ids: m.ids.slice() } : undefined;
    }
    case 'exportCsv':
      return isIds(m.ids) && isNames(m.columns, 5000) ? { type: 'exportCsv', ids: m.ids.slice(), columns: m.columns.slice() } : undefined;
    default:
      return undefined;
  }
}

/** What the webview keeps across reloads (vscodeApi.setState) and the serializer gets back. */
export interface ExperimentsTableWebviewState {
  folder: string;
}

export function parseWebviewState(state: unknown): ExperimentsTableWebviewState | undefined {
  return isObject(state) && isText(state.folder) ? { folder: state.folder } : undefined;
}

export function experimentsTablePage(folder: string): PageContent {
  return { bundle: 'experimentsTable', title: 'Experiments', data: { folder: encodeURIComponent(folder) }, loading: 'Loading runs…' };
}
