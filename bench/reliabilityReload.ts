/**
 * The extension host reloaded mid-run, MLW_RELOADS times (default 20): "Developer: Reload Window" from the
 * palette in code-server while a run started from the palette prints (test/harness/reloadMidRun.ts). Every
 * run must be reattached by the reloaded host and end Completed, exit 0, with its logs complete and no line twice.
 */
import { reloadMidRun } from '../test/harness/reloadMidRun';
import { figure } from './lib/reliability';
import { fmtMs, median, percentile } from './lib/stats';

const RELOADS = Number(process.env.MLW_RELOADS ?? 20);

async function main(): Promise<void> {
  const t0 = Date.now();
  const outcomes = await reloadMidRun(RELOADS);
  const reattached = outcomes.filter((o) => o.reattached).length;
  const completed = outcomes.filter((o) => o.status === 'Completed' && o.exitCode === 0).length;
  const logsOk = outcomes.filter((o) => !o.logsProblem).length;
  figure('reloads mid-run (Developer: Reload Window)', `${outcomes.length} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  figure('runs reattached by the reloaded extension host', `${reattached} of ${outcomes.length}`);
  figure('runs Completed, exit 0', `${completed} of ${outcomes.length}`);
  figure('logs complete, no duplicated line', `${logsOk} of ${outcomes.length}`);
  figure('reload to workbench ready ms (median / p95)', `${fmtMs(median(outcomes.map((o) => o.reloadMs)))} / ${fmtMs(percentile(outcomes.map((o) => o.reloadMs), 95))}`);
  figure('reload to final record ms (median / p95)', `${fmtMs(median(outcomes.map((o) => o.settleMs)))} / ${fmtMs(percentile(outcomes.map((o) => o.settleMs), 95))}`);
  for (const o of outcomes.filter((x) => !x.reattached || x.status !== 'Completed' || x.logsProblem)) console.log(`    ${JSON.stringify(o)}`);
  if (reattached !== outcomes.length || completed !== outcomes.length || logsOk !== outcomes.length) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
