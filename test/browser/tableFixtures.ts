/** Run summaries and table state for the experiments table's browser test and benchmark. */
import { ExperimentsTableState, RunSummaryFields, columnsOf, toQueryRow } from '../../src/views/protocol/experimentsTable';

export function tableState(runs: RunSummaryFields[]): ExperimentsTableState {
  const rows = runs.map((r) => toQueryRow(r, Date.parse('2026-11-25T12:00:00.000Z')));
  return { folder: 'file:///workspace', folderName: 'workspace', columns: columnsOf(rows), rows, view: { layout: { order: [], hidden: [], pinned: [] }, filters: [] } };
}

/** `count` runs with 4 params and metrics enough for `columns` columns in all (6 fixed ones included). */
export function manyRuns(count: number, columns = 50): RunSummaryFields[] {
  const metricCount = columns - 6 - 4;
  return Array.from({ length: count }, (_, i) => {
    const metrics: Record<string, number> = {};
    for (let m = 0; m < metricCount; m++) metrics[`m${String(m).padStart(2, '0')}`] = ((i * 7919 + m * 104729) % 10000) / 10000;
    return {
      id: `20261125-${String(100000 + i).padStart(6, '0')}-${(0x10000 + i).toString(16)}`,
      script: `train${i % 5}.py`,
      status: i % 17 === 0 ? 'Failed' : 'Completed',
      createdAt: new Date(Date.UTC(2026, 10, 25) - i * 60_000).toISOString(),
      startedAt: new Date(Date.UTC(2026, 10, 25) - i * 60_000 + 1000).toISOString(),
      endedAt: new Date(Date.UTC(2026, 10, 25) - i * 60_000 + 1000 + (i % 300) * 1000).toISOString(),
      params: { lr: [0.1, 0.01, 0.001][i % 3], layers: 2 + (i % 4), optimizer: i % 2 ? 'adam' : 'sgd', batch: 32 },
      metrics,
      commit: 'abcdef1234567890',
      labels: i % 10 === 0 ? ['baseline'] : [],
    };
  });
}
