/**
 * kill -9 of `mlw run` (node dist/cli.js run …) at a random moment of a short run, MLW_KILLS times (default
 * 200). After each kill the container is left to finish on its own and the next `mlw runs list` (a catch-up
 * reconcile, done here in-process) must record what Docker saw: a run whose container exited is Completed
 * with exit code 0, start and end times; a run killed before its container started is Lost. Counts
 * unreadable and wrong records, and containers left behind.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import Docker from 'dockerode';
import { RunStore } from '../src/model/runs/runStore';
import { ExperimentRunner } from '../src/runner/experimentRunner';
import { createTestWorkspace } from '../test/harness/testWorkspace';
import { CLI, ContainerEvents, figure, judge, runDirs, sleep, until } from './lib/reliability';
import { fmtMs, median, percentile } from './lib/stats';

const KILLS = Number(process.env.MLW_KILLS ?? 200);

function spawnRun(ws: string) {
  const child = spawn(process.execPath, [CLI, 'run', 'scripts/counter.py', '--', '10'], { cwd: ws, stdio: 'ignore', env: { ...process.env, MLW_BASE_IMAGE: '' } });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited };
}

/**
 * Waits until the run's container, if any, has exited, or stayed 'created' for 3 s: a start the killed CLI sent
 * goes on in dockerd, and on a loaded machine takes a while to show.
 */
async function settled(docker: Docker, id: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  let createdSince: number | undefined;
  while (Date.now() < deadline) {
    const [c] = await docker.listContainers({ all: true, filters: { label: [`mlw.run-id=${id}`] } });
    if (!c || c.State === 'exited' || c.State === 'dead') return;
    if (c.State === 'created') {
      createdSince ??= Date.now();
      if (Date.now() - createdSince > 3000) return;
    } else createdSince = undefined;
    await sleep(100);
  }
}

async function main(): Promise<void> {
  const ws = createTestWorkspace('mlw-bench-kill-');
  const docker = new Docker();
  const store = new RunStore(ws);
  const events = await ContainerEvents.watch(docker, ws);
  try {
    // A whole run from spawn to exit, so kills fall anywhere in it (and a little after).
    const whole: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const code = await spawnRun(ws).exited;
      if (code !== 0) throw new Error(`warm-up run exited ${code}`);
      whole.push(Date.now() - t0);
    }
    const span = median(whole) * 1.1;
    const known = new Set(runDirs(store));
    const reconcileMs: number[] = [];
    const bad: string[] = [];
    const reconcileErrors: string[] = [];
    let unreadable = 0;
    let wrong = 0;
    let killedBeforeStart = 0;
    let killedWhileRunning = 0;
    let finishedBeforeKill = 0;
    const runner = new ExperimentRunner(docker, store);
    const t0 = Date.now();
    for (let i = 0; i < KILLS; i++) {
      const { child, exited } = spawnRun(ws);
      const at = Math.random() * span;
      await Promise.race([sleep(at), exited]);
      const alreadyExited = child.exitCode !== null;
      child.kill('SIGKILL');
      await exited;
      const id = await until('the run folder', () => runDirs(store).find((d) => !known.has(d)) ?? (alreadyExited ? undefined : ''), 5000).catch(() => '');
      if (!id) {
        // Killed before the record was created: nothing to judge (and nothing left behind).
        killedBeforeStart++;
        continue;
      }
      known.add(id);
      if (alreadyExited) finishedBeforeKill++;
      else if (events.started.has(id)) killedWhileRunning++;
      // The container goes on alone; once Docker says it exited (or it never started), the next list catches up.
      await settled(docker, id);
      const r0 = Date.now();
      await runner.reconcile('catch-up').catch(async (err: Error) => {
        // Counted, then retried once the lock a kill left behind is stale enough to take over.
        reconcileErrors.push(`${id}: ${err.message}`);
        await sleep(16_000);
        await runner.reconcile('catch-up').catch((again: Error) => reconcileErrors.push(`${id} (retry): ${again.message}`));
      });
      reconcileMs.push(Date.now() - r0);
      const v = await judge(store, id, events);
      if (v.verdict === 'unreadable') unreadable++;
      if (v.verdict === 'wrong') wrong++;
      if (v.verdict !== 'ok') bad.push(`${id} killed at ${fmtMs(at)} ms: ${v.verdict}: ${v.why}`);
    }
    const elapsed = (Date.now() - t0) / 1000;
    const leftovers = await docker.listContainers({ all: true, filters: { label: [`mlw.workspace=${ws}`] } });
    const judged = KILLS - killedBeforeStart;
    figure('kills (kill -9 of mlw run, uniform over a run)', `${KILLS} in ${elapsed.toFixed(0)} s; whole run ${fmtMs(median(whole))} ms`);
    figure('killed before a record existed', killedBeforeStart);
    figure('records judged', judged);
    figure('  of which killed while the container ran', killedWhileRunning);
    figure('  of which exited before the kill landed', finishedBeforeKill);
    figure('unreadable records', unreadable);
    figure('wrong records', wrong);
    figure('containers left behind after reconcile', leftovers.length);
    figure('reconciles that failed (then retried after 16 s)', reconcileErrors.length);
    figure('catch-up reconcile ms (median / p95)', `${fmtMs(median(reconcileMs))} / ${fmtMs(percentile(reconcileMs, 95))}`);
    for (const b of [...bad.slice(0, 20), ...reconcileErrors.slice(0, 5)]) console.log(`    ${b}`);
    if (bad.length > 20) console.log(`    … and ${bad.length - 20} more`);
    const kinds = new Map<string, number>();
    for (const b of bad) {
      const kind = b.replace(/^\S+ killed at \d+ ms: /, '').replace(/\d+/g, 'N');
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    for (const [kind, n] of kinds) console.log(`    ${n} x ${kind}`);
    for (const c of leftovers) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    if (unreadable || wrong) process.exitCode = 1;
  } finally {
    events.close();
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
