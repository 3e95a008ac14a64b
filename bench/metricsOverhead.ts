/**
 * What 100,000 `mlw.log_metric` calls add to a CPU-bound script: the same fixed Python work without logging and
 * with a metric logged every iteration, in the base image with python/ mounted as a run mounts it. Target: the
 * logging version at most 5% slower.
 *
 * On a shared VM the CPU time of one and the same 3 s script varies by ±10% from run to run, more than the
 * effect measured, so each container runs both versions, alternating blocks of about 0.15 s (ABBA…): both see
 * the same machine. The logging blocks flush at their end, so the JSON encoding and the writes are charged to
 * them, and the cost of `import mlw` is added to them. Repeated in 3 containers; medians. Times are process CPU
 * time (all threads, so the flusher thread counts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTracking, TRACKING_FILE } from '../src/model/runs/tracking';
import { REPO_ROOT, testBaseImage } from '../test/harness/testWorkspace';
import { dockerCli } from './lib/dockerCli';
import { median } from './lib/stats';

const POINTS = 100_000;
const BLOCKS = 20;
const RUNS = 3;
/** CPU seconds of work each version is calibrated to, whatever the machine's speed. */
const TARGET_SECONDS = 3;
const TARGET_SLOWDOWN = 0.05;

// The loops differ only by the call: both test the same flag. The value changes every time and has a full
// mantissa, like a real loss, so formatting it costs what a real one does.
const SCRIPT = `
import json, sys, time
blocks, inner, points = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
per_block = points // blocks
clock = time.process_time
t = clock()
import mlw
import_cpu = clock() - t
def work(log, start):
    acc = 0.0
    for i in range(start, start + per_block):
        for j in range(inner):
            acc += (j * 0.5) % 7.0
        if log:
            mlw.log_metric("loss", acc / (i + 1), step=i)
    if log:
        mlw.flush()
base = logged = 0.0
for b in range(blocks):
    for log in ((False, True) if b % 2 == 0 else (True, False)):
        t = clock()
        work(log, b * per_block)
        if log:
            logged += clock() - t
        else:
            base += clock() - t
print(json.dumps({"base": base, "logged": logged + import_cpu, "import": import_cpu}))
`;

interface Sample {
  /** CPU seconds of the blocks without logging. */
  base: number;
  /** CPU seconds of the blocks with logging, plus the import of mlw. */
  logged: number;
  import: number;
}

async function runScript(trackingDir: string, blocks: number, inner: number): Promise<Sample> {
  fs.rmSync(path.join(trackingDir, TRACKING_FILE), { force: true });
  const out = await dockerCli([
    'run', '--rm', '--init', '--network', 'none', '--user', '1000:1000',
    '--mount', `type=bind,src=${path.join(REPO_ROOT, 'python')},dst=/mlw/lib,readonly`,
    '--mount', `type=bind,src=${trackingDir},dst=/mlw/tracking`,
    '-e', 'PYTHONPATH=/mlw/lib', '-e', 'PYTHONDONTWRITEBYTECODE=1', '-e', 'HOME=/tmp', '-e', 'MLW_TRACKING_DIR=/mlw/tracking',
    testBaseImage(), 'python', '-c', SCRIPT, String(blocks), String(inner), String(POINTS),
  ]);
  return JSON.parse(out.split('\n').pop() ?? '') as Sample;
}

/** Every point must be in the file, once, in order: a fast logger that loses data would be no result. */
async function checkEvents(file: string): Promise<void> {
  const data = await readTracking(file);
  const steps = data.metrics.loss?.map((p) => p.step) ?? [];
  if (data.skippedLines || steps.length !== POINTS || steps.some((s, i) => s !== i)) {
    throw new Error(`events.jsonl holds ${steps.length} points (${data.skippedLines} bad lines); expected ${POINTS} in order`);
  }
}

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
const secs = (s: number) => s.toFixed(3);

async function main(): Promise<void> {
  const trackingDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-bench-metrics-'));
  fs.chmodSync(trackingDir, 0o777); // written by the container's non-root user
  try {
    // Calibrate the inner loop so that each version does about TARGET_SECONDS of work.
    const probeInner = 20;
    const probe = await runScript(trackingDir, 2, probeInner);
    const inner = Math.max(1, Math.round((probeInner * TARGET_SECONDS) / probe.base));
    console.log(
      `image ${testBaseImage()}; ${POINTS.toLocaleString('en-US')} points; inner loop ${inner} (probe: ${secs(probe.base)} s at ${probeInner}); ` +
        `${RUNS} containers × ${BLOCKS} alternating blocks of each version`,
    );

    const samples: Sample[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const s = await runScript(trackingDir, BLOCKS, inner);
      await checkEvents(path.join(trackingDir, TRACKING_FILE));
      samples.push(s);
      console.log(
        `  run ${run}: baseline ${secs(s.base)} s, with 100k points ${secs(s.logged)} s (import ${(s.import * 1000).toFixed(1)} ms), ` +
          `slowdown ${pct(s.logged / s.base - 1)}`,
      );
    }
    const base = median(samples.map((s) => s.base));
    const logged = median(samples.map((s) => s.logged));
    // The median of each run's own ratio: both versions of a run shared the machine's condition at the time.
    const slowdown = median(samples.map((s) => s.logged / s.base - 1));
    console.log(`per point: ${(((logged - base) / POINTS) * 1e6).toFixed(2)} µs of CPU`);
    console.log(
      `metrics-overhead: baseline ${secs(base)} s, with 100k points ${secs(logged)} s, slowdown ${pct(slowdown)} ` +
        `(process CPU time, medians of ${RUNS}; target ≤ ${pct(TARGET_SLOWDOWN)}${slowdown > TARGET_SLOWDOWN ? ', MISSED' : ''})`,
    );
  } finally {
    fs.rmSync(trackingDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
