/**
 * Submit overhead with a warm image: ms from `runner.submit(...)` to the first stdout byte of a one-line
 * script, against `docker run --rm` of the same script from spawn to its first stdout byte. Both start from a
 * cold process state only once (the warm-up); then they alternate so drift on the machine hits both alike.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { RunStore } from '../src/model/runs/runStore';
import type { RunRecord } from '../src/model/runs/run';
import type { RunRequest } from '../src/runner/experimentRunner';
import { createTestWorkspace, testBaseImage } from '../test/harness/testWorkspace';
import { timeToFirstStdoutByte } from './lib/dockerCli';
import { loadAverage } from './lib/machine';
import { fmtMs, fmtRatio, median, percentile } from './lib/stats';
import { Span, Tracer, coveredMs, phaseTotals, traceDockerApi, traceModuleExports } from './lib/trace';

const ITERATIONS = 7;
const TARGET_RATIO = 1.15;
const SCRIPT_REL = 'scripts/bench_first_byte.py';
const CONTAINER_SCRIPT = '/bench/first_byte.py';

interface MlwSample {
  ttfb: number;
  spans: Span[];
  git: RunRecord['git'];
}

async function main(): Promise<void> {
  const image = testBaseImage();
  const tracer = new Tracer();
  // Must precede the runner's first require (see traceModuleExports); hence the late require below.
  const runnerPath = require.resolve('../src/runner/experimentRunner');
  if (require.cache[runnerPath]) throw new Error('experimentRunner was loaded before tracing was set up');
  const traced = [
    ...traceModuleExports(
      require.resolve('../src/runner/snapshot'),
      { planSnapshot: 'snapshot plan', copySnapshot: 'snapshot copy', hashSnapshot: 'snapshot hash' },
      tracer,
    ),
    // readGitLineage was the name before the runner refactor; either is traced.
    ...traceModuleExports(require.resolve('../src/runner/gitLineage'), { readGitState: 'git lineage', readGitLineage: 'git lineage' }, tracer),
  ];
  // A plain require: esbuild leaves `import()` as a native ESM import, which bypasses require.cache.
  const { ExperimentRunner } = require(runnerPath) as typeof import('../src/runner/experimentRunner');

  const ws = createTestWorkspace('mlw-bench-submit-');
  try {
    const scriptAbs = path.join(ws, SCRIPT_REL);
    fs.writeFileSync(scriptAbs, 'print("first byte")\n');
    // Committed, so the only change the tree shows is what the runner itself adds (its .mlw/.gitignore,
    // untracked until the user commits it), as in a user's first runs in a repository.
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@mlw.invalid', ...args], { cwd: ws });
    git('add', SCRIPT_REL);
    git('commit', '-qm', 'bench script');

    // A Docker client of our own, so the modem tracing touches nothing else.
    const docker = new Docker();
    traceDockerApi(docker, tracer);
    const store = new RunStore(ws);
    const runner = new ExperimentRunner(docker, store);
    traceStore(store, tracer);
    traced.push('run record write', 'run record read');

    const request: RunRequest = { workspaceRoot: ws, script: scriptAbs, args: [], baseImage: image, snapshotMaxBytes: 50 * 1024 * 1024 };
    const dockerArgs = ['run', '--rm', '-v', `${scriptAbs}:${CONTAINER_SCRIPT}:ro`, image, 'python', '-u', CONTAINER_SCRIPT];

    const mlwOnce = async (): Promise<MlwSample> => {
      let first: number | undefined;
      tracer.reset();
      const handle = await runner.submit(request, {
        onOutput: (_id, stream) => {
          if (stream === 'stdout') first ??= tracer.now();
        },
      });
      const run = await handle.done;
      if (run.status !== 'Completed') throw new Error(`run ${run.id} ended ${run.status}: ${run.reason ?? ''}`);
      if (first === undefined) throw new Error(`run ${run.id} completed without stdout`);
      return { ttfb: first, spans: tracer.spans, git: run.git };
    };

    const loadAtStart = loadAverage();
    console.log(`image ${image}; ${ITERATIONS} iterations each after one warm-up; load average ${loadAtStart}`);
    await mlwOnce();
    await timeToFirstStdoutByte(dockerArgs);

    const mlw: MlwSample[] = [];
    const base: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      mlw.push(await mlwOnce());
      base.push(await timeToFirstStdoutByte(dockerArgs));
      console.log(`  #${i + 1}: mlw ${fmtMs(mlw[i].ttfb)} ms, docker run ${fmtMs(base[i])} ms`);
    }

    // Lineage cost depends on the tree's state (dirty, remotes), so say which state was measured.
    const lineage = mlw[mlw.length - 1].git;
    console.log(
      `lineage of the measured runs: ${lineage ? `${lineage.dirty ? 'dirty' : 'clean'}${lineage.untracked ? ` (untracked: ${lineage.untracked.join(', ')})` : ''}, ${lineage.remote ? 'with' : 'no'} remote` : 'none'}`,
    );
    const mlwTimes = mlw.map((s) => s.ttfb);
    const ratio = median(mlwTimes) / median(base);
    printBreakdown(mlw, traced, ratio > TARGET_RATIO);
    console.log(`load average (1 min, 2 cores): ${loadAtStart} at start, ${loadAverage()} at end`);
    console.log(
      `submit-overhead: mlw median ${fmtMs(median(mlwTimes))} ms (p90 ${fmtMs(percentile(mlwTimes, 90))}), ` +
        `docker run median ${fmtMs(median(base))} ms (p90 ${fmtMs(percentile(base, 90))}), ` +
        `ratio ${fmtRatio(ratio)}× (target ≤ ${TARGET_RATIO}×)`,
    );
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

/**
 * Record writes and the runner's own reads as phases. A write reads the record first; that read is part of
 * the write, so reads are only counted outside writes (tracked per async context, not by a global flag).
 */
function traceStore(store: RunStore, tracer: Tracer): void {
  const inWrite = new AsyncLocalStorage<true>();
  const asWrite = <A extends unknown[], R>(fn: (...args: A) => R) =>
    tracer.wrap('run record write', (...args: A) => inWrite.run(true, () => fn(...args)));
  store.create = asWrite(store.create.bind(store));
  store.update = asWrite(store.update.bind(store));
  const get = store.get.bind(store);
  const tracedGet = tracer.wrap('run record read', get);
  store.get = (id) => (inWrite.getStore() ? get(id) : tracedGet(id));
}

/** Median per phase of the time before the first byte, plus the timeline of the median iteration. */
function printBreakdown(samples: MlwSample[], traced: string[], overTarget: boolean): void {
  const phases = new Map<string, number[]>();
  for (const s of samples) {
    for (const [phase, ms] of phaseTotals(s.spans, s.ttfb)) phases.set(phase, [...(phases.get(phase) ?? []), ms]);
  }
  const untraced = samples.map((s) => s.ttfb - coveredMs(s.spans, s.ttfb));
  console.log(`mlw breakdown, median ms per phase before the first stdout byte${overTarget ? ' (over target)' : ''}:`);
  const rows = [...phases.entries()]
    // A phase missing from some iterations counts 0 there.
    .map(([phase, ms]) => [phase, median([...ms, ...Array<number>(samples.length - ms.length).fill(0)])] as const)
    .sort((a, b) => b[1] - a[1]);
  for (const [phase, ms] of rows) console.log(`  ${phase.padEnd(22)} ${ms.toFixed(1).padStart(7)}`);
  console.log(`  ${'untraced (fs, other)'.padEnd(22)} ${median(untraced).toFixed(1).padStart(7)}`);
  for (const phase of ['snapshot plan', 'snapshot copy', 'git lineage']) {
    if (!traced.includes(phase)) console.log(`  (${phase}: not traced; its module no longer exports the function)`);
  }

  const sorted = [...samples].sort((a, b) => a.ttfb - b.ttfb);
  const mid = sorted[sorted.length >> 1];
  console.log(`timeline of the median iteration (ms from submit; first stdout byte at ${mid.ttfb.toFixed(1)}):`);
  for (const s of [...mid.spans].sort((a, b) => a.start - b.start)) {
    if (s.start >= mid.ttfb) continue;
    console.log(`  ${s.start.toFixed(1).padStart(7)} → ${s.end.toFixed(1).padStart(7)}  ${s.phase}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
