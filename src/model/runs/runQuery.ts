/**
 * The experiments table's query: its columns (fixed ones, then one per param and per final metric), filters
 * typed as text (`val_accuracy > 0.95`, `lr = 0.01`, `status = failed`, `label = best`, free text), sorting,
 * and CSV of what is shown. Pure (no vscode, no node, no DOM): the panel builds rows with it, and the webview
 * (through src/views/protocol/experimentsTable.ts) filters and sorts 10,000 rows in the page without a round trip.
 */

/**
 * The fields of a run summary (runIndex.ts) the table shows. Written out rather than imported, so the webview
 * bundle's type check does not take in the index's node code.
 */
export interface RunSummaryFields {
  id: string;
  script: string;
  status: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  name?: string;
  labels?: string[];
  starred?: boolean;
  params?: Record<string, unknown>;
  metrics?: Record<string, number>;
  configName?: string;
  commit?: string;
  dirty?: boolean;
}

export type ColumnKind = 'status' | 'name' | 'script' | 'created' | 'duration' | 'commit' | 'param' | 'metric';

export interface TableColumn {
  /** Unique: the fixed kinds by name, `param:<name>` and `metric:<name>` for the others. */
  key: string;
  label: string;
  kind: ColumnKind;
  numeric: boolean;
}

export type CellValue = string | number | undefined;

/** One run as the table holds it: what each column shows, plus what filters look at. */
export interface QueryRow {
  id: string;
  status: string;
  labels: string[];
  starred: boolean;
  /** Values by column key; numbers stay numbers (NaN and ±Infinity travel as text). */
  values: Record<string, CellValue>;
}

export const FIXED_COLUMNS: readonly TableColumn[] = [
  { key: 'status', label: 'Status', kind: 'status', numeric: false },
  { key: 'name', label: 'Name', kind: 'name', numeric: false },
  { key: 'script', label: 'Script', kind: 'script', numeric: false },
  { key: 'created', label: 'Created', kind: 'created', numeric: false },
  { key: 'duration', label: 'Duration', kind: 'duration', numeric: true },
  { key: 'commit', label: 'Commit', kind: 'commit', numeric: false },
];

function own<T>(o: Record<string, T> | undefined): [string, T][] {
  return o ? Object.keys(o).filter((k) => Object.hasOwn(o, k)).map((k) => [k, o[k]]) : [];
}

function paramValue(v: unknown): CellValue {
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'string') return v;
  if (v === undefined) return undefined;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The run's row: name is its name, else its labels shown with it, else nothing (the id is in every row). */
export function toQueryRow(run: RunSummaryFields, now = Date.now()): QueryRow {
  const values: Record<string, CellValue> = {
    status: run.status,
    name: run.name ?? run.id,
    script: run.configName ? `${run.script} (${run.configName})` : run.script,
    created: run.createdAt,
    commit: run.commit ? run.commit.slice(0, 8) + (run.dirty ? '*' : '') : undefined,
  };
  const start = run.startedAt ? Date.parse(run.startedAt) : NaN;
  const end = run.endedAt ? Date.parse(run.endedAt) : run.status === 'Running' ? now : NaN;
  if (Number.isFinite(start) && Number.isFinite(end)) values.duration = Math.max(0, end - start);
  for (const [k, v] of own(run.params)) values[`param:${k}`] = paramValue(v);
  for (const [k, v] of own(run.metrics)) values[`metric:${k}`] = paramValue(v);
  return { id: run.id, status: run.status, labels: run.labels ?? [], starred: !!run.starred, values };
}

/** The fixed columns, then every param and every final metric any row has (each sorted by name). */
export function columnsOf(rows: readonly QueryRow[]): TableColumn[] {
  const params = new Map<string, boolean>();
  const metrics = new Map<string, boolean>();
  for (const r of rows) {
    for (const key of Object.keys(r.values)) {
      const map = key.startsWith('param:') ? params : key.startsWith('metric:') ? metrics : undefined;
      if (!map) continue;
      const numeric = typeof r.values[key] === 'number';
      map.set(key, (map.get(key) ?? true) && (numeric || r.values[key] === undefined));
    }
  }
  const of = (map: Map<string, boolean>, kind: 'param' | 'metric'): TableColumn[] =>
    [...map.keys()].sort().map((key) => ({ key, label: key.slice(kind.length + 1), kind, numeric: map.get(key) ?? false }));
  return [...FIXED_COLUMNS, ...of(params, 'param'), ...of(metrics, 'metric')];
}

// ---------- filters ----------

export type Operator = '=' | '!=' | '>' | '>=' | '<' | '<=';

export type RowFilter =
  | { kind: 'compare'; column: string; op: Operator; value: string | number; text: string }
  | { kind: 'status'; status: string; negate: boolean; text: string }
  | { kind: 'label'; label: string; negate: boolean; text: string }
  | { kind: 'starred'; text: string }
  | { kind: 'text'; value: string; text: string };

const OPERATOR = /^\s*([^<>=!]+?)\s*(>=|<=|!=|==|=|>|<)\s*(.*?)\s*$/s;

/**
 * A filter typed by the user, or why it cannot be one. `name op value` compares a column (a metric or param by
 * its name, `metric:x`/`param:x` when both exist, or a fixed column such as duration); `status = failed`,
 * `label = best` and `starred` are their own filters; anything without an operator is free text.
 */
export function parseFilter(input: string, columns: readonly TableColumn[]): { filter: RowFilter } | { error: string } {
  const text = input.trim();
  if (!text) return { error: 'The filter is empty.' };
  if (/^(starred|is:starred)$/i.test(text)) return { filter: { kind: 'starred', text } };
  const m = OPERATOR.exec(text);
  if (!m) return { filter: { kind: 'text', value: text.toLowerCase(), text } };
  const [, name, rawOp, rawValue] = m;
  const op = (rawOp === '==' ? '=' : rawOp) as Operator;
  const value = rawValue.replace(/^(["'])(.*)\1$/s, '$2');
  if (!value) return { error: `"${text}" has no value after ${rawOp}.` };
  const lower = name.toLowerCase();
  if (lower === 'status' || lower === 'label' || lower === 'tag') {
    if (op !== '=' && op !== '!=') return { error: `${lower} takes = or !=, not ${rawOp}.` };
    return lower === 'status' ? { filter: { kind: 'status', status: value.toLowerCase(), negate: op === '!=', text } } : { filter: { kind: 'label', label: value.toLowerCase(), negate: op === '!=', text } };
  }
  const column = findColumn(name, columns);
  if (typeof column === 'string') return { error: column };
  if (op !== '=' && op !== '!=') {
    const n = Number(value);
    if (!column.numeric) return { error: `${column.label} is not a number column, so ${rawOp} cannot compare it; use = or !=.` };
    if (value.trim() === '' || !Number.isFinite(n)) return { error: `"${value}" is not a number to compare ${column.label} with.` };
    return { filter: { kind: 'compare', column: column.key, op, value: n, text } };
  }
  const n = Number(value);
  return { filter: { kind: 'compare', column: column.key, op, value: column.numeric && Number.isFinite(n) ? n : value, text } };
}

function findColumn(name: string, columns: readonly TableColumn[]): TableColumn | string {
  const exact = columns.find((c) => c.key === name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  const byLabel = columns.filter((c) => c.label.toLowerCase() === lower || c.key === lower);
  const metric = byLabel.find((c) => c.kind === 'metric');
  if (byLabel.length > 1 && metric && byLabel.some((c) => c.kind === 'param')) return `"${name}" is both a param and a metric: write param:${name} or metric:${name}.`;
  if (byLabel.length) return metric ?? byLabel[0];
  const near = columns.filter((c) => c.label.toLowerCase().includes(lower)).slice(0, 3).map((c) => c.label);
  return `No column "${name}"${near.length ? `; did you mean ${near.join(', ')}?` : ' (filters name a metric, a param, status, label, duration, or use free text).'}`;
}

function compare(a: CellValue, op: Operator, b: string | number): boolean {
  if (a === undefined) return op === '!=';
  if (typeof b === 'number') {
    if (typeof a !== 'number') return op === '!=';
    switch (op) {
      case '=': return a === b;
      case '!=': return a !== b;
      case '>': return a > b;
      case '>=': return a >= b;
      case '<': return a < b;
      case '<=': return a <= b;
    }
  }
  const eq = String(a).toLowerCase() === b.toLowerCase();
  return op === '!=' ? !eq : eq;
}

export function matches(row: QueryRow, f: RowFilter): boolean {
  switch (f.kind) {
    case 'compare':
      return compare(row.values[f.column], f.op, f.value);
    case 'status':
      return (row.status.toLowerCase() === f.status) !== f.negate;
    case 'label':
      return row.labels.some((l) => l.toLowerCase() === f.label) !== f.negate;
    case 'starred':
      return row.starred;
    case 'text': {
      if (row.id.toLowerCase().includes(f.value)) return true;
      if (row.labels.some((l) => l.toLowerCase().includes(f.value))) return true;
      for (const k in row.values) {
        const v = row.values[k];
        if (typeof v === 'string' && v.toLowerCase().includes(f.value)) return true;
      }
      return false;
    }
  }
}

// ---------- sorting ----------

export interface SortOrder {
  column: string;
  descending: boolean;
}

/** Numbers before text, empty cells last in either direction; ties keep the given (newest-first) order. */
export function compareCells(a: CellValue, b: CellValue): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The rows a view shows: those matching every filter, in the sort's order (a new array; rows are shared). */
export function queryRows(rows: readonly QueryRow[], filters: readonly RowFilter[], sort?: SortOrder): QueryRow[] {
  const kept = filters.length ? rows.filter((r) => filters.every((f) => matches(r, f))) : rows.slice();
  if (!sort) return kept;
  const { column, descending } = sort;
  const indexed = kept.map((row, i) => ({ row, i, v: row.values[column] }));
  indexed.sort((x, y) => {
    if (x.v === undefined || y.v === undefined) return x.v === y.v ? x.i - y.i : x.v === undefined ? 1 : -1;
    const c = compareCells(x.v, y.v);
    return c === 0 ? x.i - y.i : descending ? -c : c;
  });
  return indexed.map((e) => e.row);
}

// ---------- columns the user arranged ----------

/** What the user chose: order, hidden and pinned columns (by key); remembered per workspace. */
export interface ColumnLayout {
  order: string[];
  hidden: string[];
  pinned: string[];
}

/** The columns in the layout's order (new ones after, in their own order), pinned first, without hidden ones. */
export function visibleColumns(columns: readonly TableColumn[], layout: ColumnLayout): TableColumn[] {
  const rank = new Map(layout.order.map((k, i) => [k, i]));
  const hidden = new Set(layout.hidden);
  const pinned = new Set(layout.pinned);
  const ordered = columns
    .map((c, i) => ({ c, r: rank.get(c.key) ?? layout.order.length + i }))
    .sort((a, b) => a.r - b.r)
    .map((e) => e.c)
    .filter((c) => !hidden.has(c.key));
  return [...ordered.filter((c) => pinned.has(c.key)), ...ordered.filter((c) => !pinned.has(c.key))];
}

// ---------- CSV ----------

/**
 * A text cell a spreadsheet would run as a formula (=, +, -, @, and tab or CR that some read the same way) is
 * prefixed with '. Numbers are left alone: -0.5 is a value, not a formula.
 */
export function csvCell(v: CellValue): string {
  let text = v === undefined ? '' : String(v);
  if (typeof v !== 'number' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows as CSV with a header of column labels, plus the run id first so a row can be found again. */
export function rowsToCsv(rows: readonly QueryRow[], columns: readonly TableColumn[]): string {
  const lines = [['Run', ...columns.map((c) => c.label)].map(csvCell).join(',')];
  for (const r of rows) lines.push([r.id, ...columns.map((c) => r.values[c.key])].map(csvCell).join(','));
  return lines.join('\r\n') + '\r\n';
}
