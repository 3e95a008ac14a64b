import * as assert from 'node:assert/strict';
import type { RunSummary } from '../../src/model/runs/runIndex';
import { QueryRow, RowFilter, columnsOf, csvCell, parseFilter, queryRows, rowsToCsv, toQueryRow, visibleColumns } from '../../src/model/runs/runQuery';

function run(id: string, patch: Partial<RunSummary> = {}): RunSummary {
  return { id, script: 'train.py', args: [], status: 'Completed', createdAt: `2026-11-25T10:00:0${id.slice(-1)}.000Z`, ...patch };
}

const RUNS: RunSummary[] = [
  run('r1', { params: { lr: 0.01, opt: 'adam' }, metrics: { val_accuracy: 0.97, loss: 0.1 }, labels: ['best'], starred: true, startedAt: '2026-11-25T10:00:00.000Z', endedAt: '2026-11-25T10:01:00.000Z', commit: 'abcdef1234567890', dirty: true }),
  run('r2', { params: { lr: 0.1, opt: 'sgd' }, metrics: { val_accuracy: 0.91, loss: 0.3 }, status: 'Failed', reason: 'exit 1' }),
  run('r3', { params: { lr: 0.001 }, metrics: { val_accuracy: 0.96 }, name: 'long run' }),
  run('r4', { status: 'Running' }),
];
const rows = RUNS.map((r) => toQueryRow(r, Date.parse('2026-11-25T10:05:00.000Z')));
const columns = columnsOf(rows);

function filter(text: string): RowFilter {
  const parsed = parseFilter(text, columns);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.filter;
}
const ids = (r: QueryRow[]) => r.map((x) => x.id);

describe('run query: the experiments table (pure)', () => {
  it('has the fixed columns, then one per param and per final metric, numeric when every value is', () => {
    assert.deepEqual(columns.map((c) => c.key), ['status', 'name', 'script', 'created', 'duration', 'commit', 'param:lr', 'param:opt', 'metric:loss', 'metric:val_accuracy']);
    assert.equal(columns.find((c) => c.key === 'param:lr')?.numeric, true);
    assert.equal(columns.find((c) => c.key === 'param:opt')?.numeric, false);
    assert.equal(rows[0].values.commit, 'abcdef12*');
    assert.equal(rows[0].values.duration, 60_000);
  });

  it('filters by metric, param, status, label, starred and free text', () => {
    assert.deepEqual(ids(queryRows(rows, [filter('val_accuracy > 0.95')])), ['r1', 'r3']);
    assert.deepEqual(ids(queryRows(rows, [filter('lr = 0.01')])), ['r1']);
    assert.deepEqual(ids(queryRows(rows, [filter('opt = SGD')])), ['r2']);
    assert.deepEqual(ids(queryRows(rows, [filter('status = failed')])), ['r2']);
    assert.deepEqual(ids(queryRows(rows, [filter('status != completed')])), ['r2', 'r4']);
    assert.deepEqual(ids(queryRows(rows, [filter('label = best')])), ['r1']);
    assert.deepEqual(ids(queryRows(rows, [filter('starred')])), ['r1']);
    assert.deepEqual(ids(queryRows(rows, [filter('long')])), ['r3']);
    assert.deepEqual(ids(queryRows(rows, [filter('val_accuracy >= 0.96'), filter('lr < 0.005')])), ['r3'], 'filters combine with and');
  });

  it('says what is wrong with a bad filter', () => {
    const error = (text: string) => {
      const p = parseFilter(text, columns);
      return 'error' in p ? p.error : '';
    };
    assert.match(error('val_acc > 0.9'), /No column "val_acc"; did you mean val_accuracy/);
    assert.match(error('val_accuracy > high'), /"high" is not a number/);
    assert.match(error('opt > 3'), /opt is not a number column/);
    assert.match(error('status > 3'), /status takes = or !=/);
    assert.match(error('lr ='), /has no value/);
    assert.match(error('  '), /empty/);
  });

  it('sorts by any column, empty cells last either way, ties in the given order', () => {
    const byAcc = { column: 'metric:val_accuracy', descending: true };
    assert.deepEqual(ids(queryRows(rows, [], byAcc)), ['r1', 'r3', 'r2', 'r4']);
    assert.deepEqual(ids(queryRows(rows, [], { ...byAcc, descending: false })), ['r2', 'r3', 'r1', 'r4']);
    assert.deepEqual(ids(queryRows(rows, [], { column: 'status', descending: false })), ['r1', 'r3', 'r2', 'r4']);
  });

  it('arranges columns: the saved order, pinned first, hidden left out, new columns after', () => {
    const shown = visibleColumns(columns, { order: ['metric:loss', 'status', 'name'], hidden: ['commit', 'created'], pinned: ['name'] });
    assert.deepEqual(shown.map((c) => c.key), ['name', 'metric:loss', 'status', 'script', 'duration', 'param:lr', 'param:opt', 'metric:val_accuracy']);
  });

  it('writes CSV of the shown rows and columns, guarding cells a spreadsheet would run as formulas', () => {
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('+1'), "'+1");
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvCell('-2+3'), "'-2+3");
    assert.equal(csvCell(-0.5), '-0.5', 'a negative number stays a number');
    assert.equal(csvCell(undefined), '');
    const evil = toQueryRow(run('r9', { name: '=cmd|calc', params: { note: 'a,b' } }));
    const csv = rowsToCsv([evil], visibleColumns(columnsOf([evil]), { order: [], hidden: ['created', 'duration', 'commit', 'script'], pinned: [] }));
    assert.equal(csv, "Run,Status,Name,note\r\nr9,Completed,'=cmd|calc,\"a,b\"\r\n");
  });
});
