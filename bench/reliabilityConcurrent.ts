/**
 * 20 concurrent runs (MLW_CONCURRENT), 5 rounds (MLW_ROUNDS): each run its own `mlw run` process on one
 * workspace, so the store, the index and Docker see 20 writers at once. Every run must end Completed, exit 0,
 * with the metric and param its arguments determine, its last log line, and be listed Completed by
 * `mlw runs list --json`.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { RunStore } from '../src/model/runs/runStore';
import { createTestWorkspace } from '../test/harness/testWorkspace';
import { CLI, figure } from './lib/reliability';
import { fmtMs, median, percentile } from './lib/stats';

const CONCURRENT = Number(process.env.MLW_CONCURRENT ?? 20);
const ROUNDS = Number(process.env.MLW_ROUNDS ?? 5);
const SCRIPT = `import sys, time
import mlw
i, r = int(sys.argv[1]), int(sys.argv[2])
mlw.log_param("i", i)
for step in range(5):
    mlw.log_metric("score", i * 1000 + r + step / 10, step=step)
    time.sleep(0.1)
print(f"done {i} {r}")
`;

function mlwRun(ws: string, i: number, round: number): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, 'run', 'scripts/bench_concurrent.py', '--', String(i), String(round)], {
    cwd: ws,
    stdio: 'ignore',
    env: { ...process.env, MLW_BASE_IMAGE: '' },
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, ms: Date.now() - t0 })));
}

async function main(): Promise<void> {
  const ws = createTestWorkspace('mlw-bench-conc-');
  fs.writeFileSync(path.join(ws, 'scripts', 'bench_concurrent.py'), SCRIPT);
  const store = new RunStore(ws);
  // The concurrency cap of the CLI is per process; each process runs one run, so all 20 run at once.
  const roundMs: number[] = [];
  const runMs: number[] = [];
  let completed = 0;
  let wrongMetrics = 0;
  let wrongLogs = 0;
  let notListed = 0;
  const problems: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const before = new Set((await store.list()).map((r) => r.id));
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => mlwRun(ws, i, round)));
    roundMs.push(Date.now() - t0);
    runMs.push(...results.map((r) => r.ms));
    const runs = (await store.list()).filter((r) => !before.has(r.id));
    const listed = JSON.parse(spawnSync(process.execPath, [CLI, 'runs', 'list', '--json'], { cwd: ws, encoding: 'utf8', env: { ...process.env, MLW_BASE_IMAGE: '' } }).stdout) as { id: string; status: string }[];
    for (const run of runs) {
      const [i, r] = run.args.map(Number);
      const ok = run.status === 'Completed' && run.exitCode === 0;
      if (ok) completed++;
      else problems.push(`${run.id} (${i}, round ${r}): ${run.status} ${run.reason ?? ''}`);
      if (run.metrics?.score !== i * 1000 + r + 0.4 || run.params?.i !== i) {
        wrongMetrics++;
        problems.push(`${run.id}: metrics ${JSON.stringify(run.metrics)} params ${JSON.stringify(run.params)}`);
      }
      const logs = fs.readFileSync(store.paths(run.id).logs, 'utf8');
      if (logs !== `done ${i} ${r}\n`) {
        wrongLogs++;
        problems.push(`${run.id}: logs ${JSON.stringify(logs)}`);
      }
      if (listed.find((l) => l.id === run.id)?.status !== 'Completed') notListed++;
    }
    const exitCodes = results.filter((r) => r.code !== 0).length;
    if (runs.length !== CONCURRENT || exitCodes) problems.push(`round ${round}: ${runs.length} records for ${CONCURRENT} runs, ${exitCodes} mlw exit codes not 0`);
  }
  const docker = new Docker();
  const leftovers = await docker.listContainers({ all: true, filters: { label: [`mlw.workspace=${ws}`] } });
  const total = CONCURRENT * ROUNDS;
  figure('runs (concurrent mlw run processes x rounds)', `${CONCURRENT} x ${ROUNDS} = ${total}`);
  figure('completed (exit 0)', `${completed} of ${total}`);
  figure('wrong metrics or params', wrongMetrics);
  figure('wrong logs', wrongLogs);
  figure('not listed Completed by mlw runs list', notListed);
  figure('containers left behind', leftovers.length);
  figure('round wall time s (median / max)', `${(median(roundMs) / 1000).toFixed(1)} / ${(Math.max(...roundMs) / 1000).toFixed(1)}`);
  figure('one mlw run, spawn to exit ms (median / p95)', `${fmtMs(median(runMs))} / ${fmtMs(percentile(runMs, 95))}`);
  for (const p of problems.slice(0, 20)) console.log(`    ${p}`);
  for (const c of leftovers) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  fs.rmSync(ws, { recursive: true, force: true });
  if (completed !== total || wrongMetrics || wrongLogs || notListed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
