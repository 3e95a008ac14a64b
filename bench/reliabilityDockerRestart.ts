/**
 * dockerd stopped mid-run and started again, MLW_RESTARTS times (default 6), on a second, private dockerd
 * (test/harness/secondDockerd.ts; the shared engine is never touched), alternating live-restore on and off.
 * Each cycle: `mlw run --docker-host …` of a 5 s script, the engine stopped (SIGTERM to its pid) at a random
 * moment of the run, started again after a random pause, then `mlw runs list` until the run has an outcome.
 * Right outcomes: with live-restore the container survives, so Completed, exit 0, every log line once; without,
 * the engine's shutdown stopped it: Failed, exit 143, reason "Stopped by the Docker engine…", no line twice.
 * The store must be intact: every record readable and listed with its record's status.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { isTerminal } from '../src/model/runs/run';
import { RunStore } from '../src/model/runs/runStore';
import { SecondDockerd } from '../test/harness/secondDockerd';
import { createTestWorkspace, testBaseImage } from '../test/harness/testWorkspace';
import { CLI, figure, sleep, until } from './lib/reliability';
import { fmtMs, median } from './lib/stats';

const RESTARTS = Number(process.env.MLW_RESTARTS ?? 6);
const LINES = 100;

function checkLogs(text: string, complete: boolean): string | undefined {
  const lines = text.split('\n').filter(Boolean);
  const numbered = lines.filter((l) => l.startsWith('line '));
  if (new Set(numbered).size !== numbered.length) return 'a duplicated line';
  for (let i = 0; i < numbered.length; i++) if (!numbered[i].startsWith(`line ${String(i).padStart(4, '0')} `)) return `line ${i} missing or out of order`;
  if (complete && (numbered.length !== LINES || lines[lines.length - 1] !== 'counter done')) return `${numbered.length} of ${LINES} lines`;
  return undefined;
}

async function main(): Promise<void> {
  const engine = await SecondDockerd.start({ image: testBaseImage() });
  const ws = createTestWorkspace('mlw-bench-restart-');
  const store = new RunStore(ws);
  const env = { ...process.env, MLW_BASE_IMAGE: '' };
  const list = () => JSON.parse(spawnSync(process.execPath, [CLI, 'runs', 'list', '--json', '--docker-host', engine.host], { cwd: ws, encoding: 'utf8', env }).stdout) as { id: string; status: string }[];
  const stopMs: number[] = [];
  const startMs: number[] = [];
  const settleMs: number[] = [];
  const problems: string[] = [];
  let right = 0;
  let gapsNoted = 0;
  try {
    for (let cycle = 0; cycle < RESTARTS; cycle++) {
      const liveRestore = cycle % 2 === 0;
      await engine.stopEngine();
      await engine.startEngine(liveRestore);
      const known = new Set((await store.list()).map((r) => r.id));
      const child = spawn(process.execPath, [CLI, 'run', '--docker-host', engine.host, 'scripts/counter.py', '--', String(LINES)], { cwd: ws, stdio: 'ignore', env });
      const exited = new Promise<number | null>((r) => child.on('exit', r));
      const id = await until('the run to be Running', async () => (await store.list()).find((r) => !known.has(r.id) && r.status === 'Running')?.id, 60_000);
      await sleep(Math.random() * 3500); // the script runs for about 5 s
      stopMs.push(await engine.stopEngine());
      const cliExit = await exited;
      await sleep(Math.random() * 2000);
      startMs.push(await engine.startEngine(liveRestore));
      const t0 = Date.now();
      const listed = await until('an outcome', () => {
        const r = list().find((x) => x.id === id);
        return r && isTerminal(r.status as never) ? r : undefined;
      }, 60_000, 200);
      settleMs.push(Date.now() - t0);
      const run = (await store.get(id))!;
      // Docker itself drops what a container prints while its engine is down, if it exits before the engine is
      // back; the record must then say the logs may have a gap (and no line may be there twice regardless).
      const gapNoted = /the logs may miss lines/.test(run.reason ?? '');
      if (gapNoted) gapsNoted++;
      const logsProblem = checkLogs(fs.readFileSync(store.paths(id).logs, 'utf8'), liveRestore && run.status === 'Completed' && !gapNoted);
      const leftover = (await engine.client().listContainers({ all: true, filters: { label: [`mlw.run-id=${id}`] } })).length;
      // The script may end on its own before the stop lands: then Completed is right either way.
      const ok = run.status === 'Completed'
        ? run.exitCode === 0 && (!run.reason || gapNoted)
        : !liveRestore && run.status === 'Failed' && run.exitCode === 143 && /^Stopped by the Docker engine/.test(run.reason ?? '');
      if (ok && !logsProblem && !leftover && listed.status === run.status) right++;
      else problems.push(`cycle ${cycle} (live-restore ${liveRestore}, mlw run exit ${cliExit}): ${run.status} ${run.exitCode} ${run.reason ?? ''} ${logsProblem ?? ''} ${leftover ? 'container left' : ''}`);
    }
    // The store after all of it: every record readable, and the index agrees with each record.
    const errors: string[] = [];
    const records = await store.list((id, err) => errors.push(`${id}: ${err.message}`));
    const summaries = await store.listSummaries();
    const disagree = records.filter((r) => summaries.find((s) => s.id === r.id)?.status !== r.status).length;
    figure('engine stops mid-run (SIGTERM), live-restore on/off', `${RESTARTS} (${Math.ceil(RESTARTS / 2)} / ${Math.floor(RESTARTS / 2)})`);
    figure('right outcome recorded after the restart', `${right} of ${RESTARTS}`);
    figure('  of which Completed, log gap noted (Docker\'s loss)', gapsNoted);
    figure('records unreadable / index disagreeing', `${errors.length} / ${disagree} of ${records.length}`);
    figure('engine stop ms / start ms (median)', `${fmtMs(median(stopMs))} / ${fmtMs(median(startMs))}`);
    figure('engine back to outcome listed, ms (median / max)', `${fmtMs(median(settleMs))} / ${fmtMs(Math.max(...settleMs))}`);
    for (const p of [...problems, ...errors]) console.log(`    ${p}`);
    if (right !== RESTARTS || errors.length || disagree) process.exitCode = 1;
  } finally {
    await engine.dispose();
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
