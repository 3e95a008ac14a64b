// Browser side of the experiments table. Holds every run of the folder as rows (src/views/protocol/experimentsTable.ts),
// filters and sorts them in the page with the pure query, and draws only the rows in view (a pool of row
// elements whose cells get textContent), so 10,000 runs scroll like 40. Sends intents: the view to remember,
// actions on the selected runs, CSV of what is shown.
import './styles.css';
import {
  ExperimentsTableState,
  ExperimentsTableWebviewState,
  FromWebview,
  QueryRow,
  ROW_ACTIONS,
  RowAction,
  RowFilter,
  TableColumn,
  TableView,
  ToWebview,
  parseFilter,
  queryRows,
  visibleColumns,
} from '../../src/views/protocol/experimentsTable';
import { formatDuration, formatNumber } from '../../src/model/common/format';
import { bootstrap } from '../shared/bootstrap';
import { button, h } from '../shared/dom';
import { vscodeApi } from '../shared/host';

const ROW_HEIGHT = 24;
/** Rows drawn above and below the visible ones, so a fast scroll does not show blank space for a frame. */
const OVERSCAN = 8;
const COLUMN_WIDTH: Record<string, number> = { status: 90, name: 200, script: 180, created: 150, duration: 80, commit: 90 };
const DEFAULT_WIDTH = 110;

let state: ExperimentsTableState | undefined;
let version = 0;
let view: TableView = { layout: { order: [], hidden: [], pinned: [] }, filters: [] };
let filters: RowFilter[] = [];
let shown: QueryRow[] = [];
let columns: TableColumn[] = [];
const selected = new Set<string>();
let anchor = -1;
let cursor = -1;
let columnsOpen = false;

const { app, send, takeViolations } = bootstrap<ToWebview, FromWebview>('experimentsTable', () => ({
  state: (msg) => {
    const t0 = performance.now();
    const first = !state;
    state = msg.state;
    version = msg.version;
    if (first) view = msg.state.view;
    vscodeApi.setState({ folder: msg.state.folder } satisfies ExperimentsTableWebviewState);
    const known = new Set(state.rows.map((r) => r.id));
    for (const id of [...selected]) if (!known.has(id)) selected.delete(id);
    if (first) build();
    recompute();
    send({ type: 'rendered', version, rows: shown.length, domRows: body.childElementCount, ms: Math.round(performance.now() - t0), errors: takeViolations() });
  },
}));

// ---------- the page's parts (made once) ----------

const filterInput = h('input', { type: 'text', class: 'filter-input', testId: 'filter-input', placeholder: 'Filter: val_accuracy > 0.95, lr = 0.01, status = failed, label = best, or text', 'aria-label': 'Add a filter' });
const filterError = h('div', { class: 'filter-error', role: 'alert', testId: 'filter-error' });
const chips = h('div', { class: 'chips', testId: 'chips' });
const count = h('span', { class: 'count', testId: 'count' });
const actions = h('div', { class: 'actions' });
const columnsPanel = h('div', { class: 'columns-panel', testId: 'columns-panel' });
const header = h('div', { class: 'header row', role: 'row', testId: 'header' });
const body = h('div', { class: 'body', role: 'rowgroup' });
const spacer = h('div', { class: 'spacer' }, body);
const grid = h('div', { class: 'grid', role: 'grid', tabindex: 0, testId: 'grid', 'aria-multiselectable': 'true' }, header, spacer);
const actionButtons = new Map<RowAction, HTMLButtonElement>();

function build(): void {
  app.replaceChildren(
    h('div', { class: 'toolbar' }, filterInput, chips, count),
    filterError,
    h('div', { class: 'toolbar' }, actions, button('Columns…', () => toggleColumns(), { testId: 'columns-toggle', secondary: true }), button('Export CSV', exportCsv, { testId: 'export-csv', secondary: true })),
    columnsPanel,
    grid,
  );
  for (const [action, spec] of Object.entries(ROW_ACTIONS) as [RowAction, (typeof ROW_ACTIONS)[RowAction]][]) {
    const b = button(spec.label, () => runAction(action), { testId: `action:${action}` });
    actionButtons.set(action, b);
    actions.append(b);
  }
  filterInput.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    addFilter(filterInput.value);
  });
  grid.addEventListener('scroll', () => scheduleDraw());
  grid.addEventListener('keydown', onKey);
  window.addEventListener('resize', () => scheduleDraw());
}

// ---------- the query ----------

/** Filters, sort and columns from the view; the rows they give; then the header and rows in view. */
function recompute(): void {
  if (!state) return;
  const parsed = view.filters.map((text) => parseFilter(text, state!.columns));
  filters = parsed.flatMap((p) => ('filter' in p ? [p.filter] : []));
  const sort = view.sort && state.columns.some((c) => c.key === view.sort!.column) ? view.sort : undefined;
  shown = queryRows(state.rows, filters, sort);
  columns = visibleColumns(state.columns, view.layout);
  drawChips();
  drawHeader();
  drawColumnsPanel();
  spacer.style.height = `${shown.length * ROW_HEIGHT}px`;
  spacer.style.width = `${totalWidth()}px`;
  pool.length = 0;
  body.replaceChildren();
  draw();
  updateActions();
  count.textContent = `${shown.length} of ${state.rows.length} runs${selected.size ? `, ${selected.size} selected` : ''}`;
}

function saveView(): void {
  send({ type: 'setView', view });
  recompute();
}

function addFilter(text: string): void {
  if (!state) return;
  const parsed = parseFilter(text, state.columns);
  if ('error' in parsed) {
    filterError.textContent = parsed.error;
    return;
  }
  filterError.textContent = '';
  filterInput.value = '';
  if (!view.filters.includes(parsed.filter.text)) view = { ...view, filters: [...view.filters, parsed.filter.text] };
  saveView();
}

function removeFilter(text: string): void {
  view = { ...view, filters: view.filters.filter((f) => f !== text) };
  saveView();
}

function drawChips(): void {
  chips.replaceChildren(
    ...view.filters.map((text) =>
      h('span', { class: 'chip', testId: `chip:${text}` }, text, h('button', { class: 'chip-remove', type: 'button', title: `Remove filter ${text}`, 'aria-label': `Remove filter ${text}`, testId: `chip-remove:${text}`, onClick: () => removeFilter(text) }, '×')),
    ),
  );
}

// ---------- columns ----------

function widthOf(c: TableColumn): number {
  return COLUMN_WIDTH[c.key] ?? DEFAULT_WIDTH;
}

function totalWidth(): number {
  return columns.reduce((w, c) => w + widthOf(c), 0);
}

/** Pinned columns stick to the left edge, each after the ones pinned before it. */
function placeCell(cell: HTMLElement, c: TableColumn, left: number, pinned: boolean): void {
  cell.style.width = `${widthOf(c)}px`;
  if (pinned) {
    cell.classList.add('pinned');
    cell.style.left = `${left}px`;
  }
}

function drawHeader(): void {
  const pinned = new Set(view.layout.pinned);
  let left = 0;
  header.replaceChildren();
  header.style.width = `${totalWidth()}px`;
  for (const c of columns) {
    const sorted = view.sort?.column === c.key ? (view.sort.descending ? ' ▼' : ' ▲') : '';
    const cell = h('div', { class: `cell head${c.numeric ? ' numeric' : ''}`, role: 'columnheader', testId: `header:${c.key}`, title: `${c.label}: click to sort`, 'aria-sort': sorted ? (view.sort!.descending ? 'descending' : 'ascending') : 'none', onClick: () => sortBy(c.key) }, c.label + sorted);
    placeCell(cell, c, left, pinned.has(c.key));
    if (pinned.has(c.key)) left += widthOf(c);
    header.append(cell);
  }
}

/** Ascending, then descending, then back to the index's newest-first order. */
function sortBy(key: string): void {
  const s = view.sort;
  view = { ...view, sort: s?.column !== key ? { column: key, descending: false } : !s.descending ? { column: key, descending: true } : undefined };
  saveView();
}

function toggleColumns(): void {
  columnsOpen = !columnsOpen;
  drawColumnsPanel();
}

/** Every column with hide, pin and move controls, in the layout's order (hidden ones too). */
function drawColumnsPanel(): void {
  columnsPanel.hidden = !columnsOpen;
  if (!columnsOpen || !state) return;
  const all = visibleColumns(state.columns, { ...view.layout, hidden: [], pinned: [] });
  const hidden = new Set(view.layout.hidden);
  const pinned = new Set(view.layout.pinned);
  const layout = (patch: Partial<TableView['layout']>) => {
    view = { ...view, layout: { ...view.layout, order: all.map((c) => c.key), ...patch } };
    saveView();
  };
  const toggle = (list: string[], key: string) => (list.includes(key) ? list.filter((k) => k !== key) : [...list, key]);
  const move = (i: number, by: number) => {
    const order = all.map((c) => c.key);
    const j = i + by;
    if (j < 0 || j >= order.length) return;
    [order[i], order[j]] = [order[j], order[i]];
    layout({ order });
  };
  columnsPanel.replaceChildren(
    ...all.map((c, i) =>
      h('div', { class: 'column-item', testId: `column:${c.key}` },
        h('button', { type: 'button', class: 'icon', testId: `column-hide:${c.key}`, title: hidden.has(c.key) ? 'Show' : 'Hide', onClick: () => layout({ hidden: toggle(view.layout.hidden, c.key) }) }, hidden.has(c.key) ? '☐' : '☑'),
        h('button', { type: 'button', class: `icon${pinned.has(c.key) ? ' on' : ''}`, testId: `column-pin:${c.key}`, title: pinned.has(c.key) ? 'Unpin' : 'Pin to the left', onClick: () => layout({ pinned: toggle(view.layout.pinned, c.key) }) }, '📌'),
        h('button', { type: 'button', class: 'icon', testId: `column-up:${c.key}`, title: 'Move left', onClick: () => move(i, -1) }, '↑'),
        h('button', { type: 'button', class: 'icon', testId: `column-down:${c.key}`, title: 'Move right', onClick: () => move(i, 1) }, '↓'),
        h('span', null, `${c.label}${c.kind === 'param' ? ' (param)' : c.kind === 'metric' ? ' (metric)' : ''}`),
      ),
    ),
  );
}

// ---------- rows in view ----------

/** Row elements in use, reused from draw to draw: scrolling only changes their text and position. */
const pool: HTMLElement[] = [];
let drawQueued = false;

function scheduleDraw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    draw();
  });
}

function cellText(c: TableColumn, v: QueryRow['values'][string]): string {
  if (v === undefined) return '';
  if (c.kind === 'duration' && typeof v === 'number') return formatDuration(v);
  if (c.kind === 'created' && typeof v === 'string') return v.replace('T', ' ').slice(0, 19);
  return typeof v === 'number' ? formatNumber(v) : v;
}

function makeRow(): HTMLElement {
  const pinned = new Set(view.layout.pinned);
  const row = h('div', { class: 'row', role: 'row' });
  let left = 0;
  for (const c of columns) {
    const cell = h('div', { class: `cell${c.numeric ? ' numeric' : ''}`, role: 'gridcell' });
    placeCell(cell, c, left, pinned.has(c.key));
    if (pinned.has(c.key)) left += widthOf(c);
    row.append(cell);
  }
  row.addEventListener('click', (e) => clickRow(Number(row.dataset.index), e));
  row.addEventListener('dblclick', () => {
    const r = shown[Number(row.dataset.index)];
    if (r) send({ type: 'action', action: 'openDetails', ids: [r.id] });
  });
  return row;
}

/**
 * Row `index` lives in pool[index % pool.length], so a scroll of ten rows rewrites ten rows, not every one.
 * `force` redraws rows already in place (the selection changed).
 */
function draw(force = false): void {
  const height = grid.clientHeight || 600;
  const first = Math.max(0, Math.floor(grid.scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((grid.scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const needed = last - first;
  if (needed > pool.length) {
    while (pool.length < needed) body.append((pool[pool.length] = makeRow()));
    for (const row of pool) delete row.dataset.index;
  }
  const n = pool.length;
  for (let k = 0; k < n; k++) pool[k].hidden = true;
  for (let index = first; index < last; index++) {
    const row = pool[index % n];
    row.hidden = false;
    const r = shown[index];
    const moved = row.dataset.index !== String(index);
    if (moved) {
      row.dataset.index = String(index);
      row.dataset.testid = `row:${r.id}`;
      row.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
      const cells = row.children;
      for (let k = 0; k < columns.length; k++) {
        const cell = cells[k] as HTMLElement;
        cell.textContent = cellText(columns[k], r.values[columns[k].key]);
        if (columns[k].kind === 'status') cell.dataset.status = r.status;
      }
    }
    if (moved || force) {
      row.classList.toggle('selected', selected.has(r.id));
      row.classList.toggle('cursor', index === cursor);
      row.setAttribute('aria-selected', String(selected.has(r.id)));
    }
  }
}

// ---------- selection, keyboard, actions ----------

function clickRow(index: number, e: MouseEvent): void {
  const r = shown[index];
  if (!r) return;
  if (e.shiftKey && anchor >= 0) {
    if (!(e.ctrlKey || e.metaKey)) selected.clear();
    const [a, b] = anchor < index ? [anchor, index] : [index, anchor];
    for (let i = a; i <= b; i++) selected.add(shown[i].id);
  } else if (e.ctrlKey || e.metaKey) {
    if (selected.has(r.id)) selected.delete(r.id);
    else selected.add(r.id);
    anchor = index;
  } else {
    selected.clear();
    selected.add(r.id);
    anchor = index;
  }
  cursor = index;
  selectionChanged();
}

function selectionChanged(): void {
  updateActions();
  if (state) count.textContent = `${shown.length} of ${state.rows.length} runs${selected.size ? `, ${selected.size} selected` : ''}`;
  draw(true);
}

function selectedIds(): string[] {
  return shown.filter((r) => selected.has(r.id)).map((r) => r.id);
}

function updateActions(): void {
  const n = selectedIds().length;
  for (const [action, b] of actionButtons) {
    const { min, max } = ROW_ACTIONS[action];
    b.disabled = n < min || n > max;
  }
}

function runAction(action: RowAction): void {
  const ids = selectedIds();
  const { min, max } = ROW_ACTIONS[action];
  if (ids.length >= min && ids.length <= max) send({ type: 'action', action, ids });
}

function exportCsv(): void {
  send({ type: 'exportCsv', ids: shown.map((r) => r.id), columns: columns.map((c) => c.key) });
}

function moveCursor(to: number, extend: boolean): void {
  if (!shown.length) return;
  const index = Math.max(0, Math.min(shown.length - 1, to));
  // As in VS Code's lists: a move selects the row it lands on, shift+move extends from the anchor.
  if (!extend || anchor < 0) anchor = extend && cursor >= 0 ? cursor : index;
  selected.clear();
  const [a, b] = anchor < index ? [anchor, index] : [index, anchor];
  for (let i = a; i <= b; i++) selected.add(shown[i].id);
  cursor = index;
  const top = index * ROW_HEIGHT;
  const headerHeight = header.offsetHeight;
  if (top < grid.scrollTop) grid.scrollTop = top;
  else if (top + ROW_HEIGHT > grid.scrollTop + grid.clientHeight - headerHeight) grid.scrollTop = top + ROW_HEIGHT - grid.clientHeight + headerHeight;
  selectionChanged();
}

function onKey(e: KeyboardEvent): void {
  const page = Math.max(1, Math.floor(grid.clientHeight / ROW_HEIGHT) - 1);
  switch (e.key) {
    case 'ArrowDown': moveCursor(cursor + 1, e.shiftKey); break;
    case 'ArrowUp': moveCursor(cursor - 1, e.shiftKey); break;
    case 'PageDown': moveCursor(cursor + page, e.shiftKey); break;
    case 'PageUp': moveCursor(cursor - page, e.shiftKey); break;
    case 'Home': moveCursor(0, e.shiftKey); break;
    case 'End': moveCursor(shown.length - 1, e.shiftKey); break;
    case ' ': {
      const r = shown[cursor];
      if (!r) return;
      if (selected.has(r.id)) selected.delete(r.id);
      else selected.add(r.id);
      anchor = cursor;
      selectionChanged();
      break;
    }
    case 'Enter': {
      const r = shown[cursor];
      if (r) send({ type: 'action', action: 'openDetails', ids: [r.id] });
      break;
    }
    case 'a':
      if (!(e.ctrlKey || e.metaKey)) return;
      for (const r of shown) selected.add(r.id);
      selectionChanged();
      break;
    case 'Escape':
      selected.clear();
      selectionChanged();
      break;
    default:
      return;
  }
  e.preventDefault();
}
