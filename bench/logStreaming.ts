/**
 * 1,000,000 log lines through the runner (submit → done, lines split as the output channel does, logs.txt
 * checked byte for byte) against `docker logs -f` of the same script in a plain container. Both read the
 * same json-file log the engine writes, so the difference is the consumer: dockerode + demux + logs.txt +
 * line splitting here, the Docker CLI there.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { RunStore } from '../src/model/runs/runStore';
import { LineSplitter, LogStreamName } from '../src/runner/docker/logDemux';
import { ExperimentRunner, RunRequest } from '../src/runner/experimentRunner';
import { createTestWorkspace, testBaseImage } from '../test/harness/testWorkspace';
import { dockerCli } from './lib/dockerCli';
import { MemoryGrowth, MemorySampler } from './lib/memorySampler';
import { loadAverage } from './lib/machine';
import { fmtInt, fmtRatio, median } from './lib/stats';

const LINES = 1_000_000;
const WARMUP_LINES = 10_000;
/** Alternating rounds of baseline then runner; one round of each takes about 20 s on 2 cores. */
const ROUNDS = 3;
const TARGET_RATIO = 0.9;
const TARGET_MEMORY_MB = 50;
const SCRIPT_REL = 'scripts/bench_lines.py';
const CONTAINER_SCRIPT = '/bench/lines.py';

// 60 bytes a line with the newline. The hex column varies every line so a dropped or repeated line cannot
// hide in a run of identical ones; Python and Node compute it identically (exact below 2^53).
const PAD = 'abcdefghijklmnopqrstuvwxyz0123456789-';
const SCRIPT = `import sys
N = int(sys.argv[1])
PAD = '${PAD}'
w = sys.stdout.write
# Written in blocks: the producer should never be the bottleneck; the engine still logs one entry a line.
for s in range(0, N, 1000):
    w(''.join('line %07d %08x %s\\n' % (i, (i * 2654435761) & 0xffffffff, PAD) for i in range(s, min(N, s + 1000))))
`;

function expectedLine(i: number): string {
  const hex = ((i * 2654435761) >>> 0).toString(16).padStart(8, '0');
  return `line ${String(i).padStart(7, '0')} ${hex} ${PAD}\n`;
}

/** sha256 and length of what the script prints, generated in blocks so it never holds 60 MB at once. */
function expectedDigest(n: number): { sha256: string; bytes: number } {
  const hash = createHash('sha256');
  let bytes = 0;
  for (let s = 0; s < n; s += 10_000) {
    let block = '';
    for (let i = s; i < Math.min(n, s + 10_000); i++) block += expectedLine(i);
    hash.update(block);
    bytes += Buffer.byteLength(block);
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function fileDigest(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

interface MlwResult {
  ms: number;
  lines: number;
  logsFile: string;
  memory: MemoryGrowth;
  /** CPU this process spent (user + system): the consumer's own cost, whoever the bottleneck is. */
  cpuMs: number;
}

async function runMlw(runner: ExperimentRunner, request: RunRequest): Promise<MlwResult> {
  let lines = 0;
  let stderrLines = 0;
  // What the output channel does per line: split, tag, hand a string on.
  let chars = 0;
  const tag = '[abcd]';
  const splitters: Record<LogStreamName, LineSplitter> = {
    stdout: new LineSplitter((line) => {
      lines += 1;
      chars += `${tag} ${line}`.length;
    }),
    stderr: new LineSplitter(() => (stderrLines += 1)),
  };
  const memory = new MemorySampler();
  memory.start(100);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const handle = await runner.submit(request, { onOutput: (_id, stream, chunk) => splitters[stream].push(chunk) });
  const run = await handle.done;
  splitters.stdout.flush();
  splitters.stderr.flush();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const growth = memory.stop();
  if (run.status !== 'Completed') throw new Error(`run ${run.id} ended ${run.status}: ${run.reason ?? ''}`);
  if (stderrLines) throw new Error(`run ${run.id} wrote ${stderrLines} lines to stderr`);
  // Every line is the same length, so a line split in the wrong place shows up in the total.
  const tagged = tag.length + 1 + expectedLine(0).length - 1;
  if (chars !== lines * tagged) throw new Error(`tagged lines total ${chars} chars, expected ${lines} × ${tagged}`);
  return { ms, lines, logsFile: runner.store.paths(run.id).logs, memory: growth, cpuMs: (cpu.user + cpu.system) / 1000 };
}

interface BaselineResult {
  ms: number;
  lines: number;
  bytes: number;
}

/** `docker run -d` then `docker logs -f`, timed from spawning `docker run` to the end of the logs stream. */
async function runBaseline(image: string, scriptAbs: string, n: number): Promise<BaselineResult> {
  const t0 = performance.now();
  const id = await dockerCli(['run', '-d', '-v', `${scriptAbs}:${CONTAINER_SCRIPT}:ro`, image, 'python', '-u', CONTAINER_SCRIPT, String(n)]);
  try {
    const { lines, bytes } = await new Promise<{ lines: number; bytes: number }>((resolve, reject) => {
      const child = spawn('docker', ['logs', '-f', id], { stdio: ['ignore', 'pipe', 'pipe'] });
      let lines = 0;
      let bytes = 0;
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
      });
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve({ lines, bytes });
        else reject(new Error(`docker logs -f exited with ${code}: ${Buffer.concat(err).toString('utf8').trim()}`));
      });
    });
    return { ms: performance.now() - t0, lines, bytes };
  } finally {
    await dockerCli(['rm', '-f', id]).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const image = testBaseImage();
  const ws = createTestWorkspace('mlw-bench-logs-');
  try {
    const scriptAbs = path.join(ws, SCRIPT_REL);
    fs.writeFileSync(scriptAbs, SCRIPT);
    const runner = new ExperimentRunner(new Docker(), new RunStore(ws));
    const request = (n: number): RunRequest => ({
      workspaceRoot: ws,
      script: scriptAbs,
      args: [String(n)],
      baseImage: image,
      snapshotMaxBytes: 50 * 1024 * 1024,
    });
    const loadAtStart = loadAverage();
    console.log(`image ${image}; ${fmtInt(LINES)} lines of 60 bytes; ${ROUNDS} alternating rounds after a ${fmtInt(WARMUP_LINES)}-line warm-up; load average ${loadAtStart}`);

    // Loads dockerode, simple-git and the JIT paths once, so memory growth is the stream's, not start-up's.
    await runBaseline(image, scriptAbs, WARMUP_LINES);
    await runMlw(runner, request(WARMUP_LINES));

    const mlw: MlwResult[] = [];
    const base: BaselineResult[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const b = await runBaseline(image, scriptAbs, LINES);
      if (b.lines !== LINES) throw new Error(`docker logs -f delivered ${b.lines} lines, expected ${LINES}`);
      base.push(b);
      const m = await runMlw(runner, request(LINES));
      if (m.lines !== LINES) throw new Error(`the listener saw ${m.lines} lines, expected ${LINES}`);
      mlw.push(m);
      console.log(
        `  round ${r + 1}: docker logs -f ${fmtInt(b.ms)} ms, mlw ${fmtInt(m.ms)} ms (this process's CPU ${fmtInt(m.cpuMs)} ms); ` +
          `mlw memory growth rss ${m.memory.rssMB.toFixed(1)} MB, heapUsed ${m.memory.heapUsedMB.toFixed(1)} MB, external ${m.memory.externalMB.toFixed(1)} MB (${m.memory.samples} samples)`,
      );
    }

    // Checked after all timing, so neither the 60 MB of expected text nor hashing shows in memory or time.
    const expected = expectedDigest(LINES);
    let identical = true;
    for (const m of mlw) {
      const got = await fileDigest(m.logsFile);
      if (got.sha256 !== expected.sha256 || got.bytes !== expected.bytes) {
        identical = false;
        console.log(`  ${m.logsFile}: ${got.bytes} bytes sha256 ${got.sha256}, expected ${expected.bytes} bytes sha256 ${expected.sha256}`);
      }
    }
    const baseBytesOk = base.every((b) => b.bytes === expected.bytes);

    const mlwRate = LINES / (median(mlw.map((m) => m.ms)) / 1000);
    const baseRate = LINES / (median(base.map((b) => b.ms)) / 1000);
    const mbps = (rate: number) => ((rate * expected.bytes) / LINES / 1e6).toFixed(1);
    const worstRss = Math.max(...mlw.map((m) => m.memory.rssMB));
    const worstHeap = Math.max(...mlw.map((m) => m.memory.heapUsedMB));
    console.log(`mlw ${mbps(mlwRate)} MB/s, docker logs -f ${mbps(baseRate)} MB/s (medians; MB = 10^6 bytes); worst heapUsed growth ${worstHeap.toFixed(1)} MB`);
    console.log(`load average (1 min, 2 cores): ${loadAtStart} at start, ${loadAverage()} at end`);
    if (!baseBytesOk) console.log('  note: docker logs -f delivered a different byte count than expected');
    console.log(
      `log-streaming: mlw ${fmtInt(mlwRate)} lines/s, docker logs -f ${fmtInt(baseRate)} lines/s, ratio ${fmtRatio(mlwRate / baseRate)}× (target ≥ ${TARGET_RATIO}×); ` +
        `logs.txt byte-identical: ${identical ? 'yes' : 'NO'}; memory growth ${worstRss.toFixed(1)} MB (target ≤ ${TARGET_MEMORY_MB} MB)`,
    );
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
