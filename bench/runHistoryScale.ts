/**
 * Listing a long run history: 10,000 realistic runs in a temp workspace (run.json files as the store writes them,
 * every one ended, so `mlw runs list` has nothing to reconcile and makes no Docker call). Measures, median of 5:
 * the first listSummaries() of a process with a valid index (what the Runs tree's first render waits for), with
 * the journal at its largest (2 lines per run), and when that listing compacts it; the rebuild after index.jsonl
 * is deleted; `mlw runs list` and `mlw runs list --json` end to end (spawned, as a user runs them); and the
 * baseline, the old way: store.list() reading every run.json. Targets: tree ≤ 300 ms, CLI ≤ 500 ms.
 *
 * Files are in the page cache (just written), as for a history used daily; a disk read cold after a reboot would
 * slow the read-all baseline and the rebuild most, as they open 10,000 files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUN_SCHEMA_VERSION, RunRecord, RunStatus } from '../src/model/runs/run';
import { INDEX_FILE, summarize } from '../src/model/runs/runIndex';
import { RunStore } from '../src/model/runs/runStore';
import { REPO_ROOT } from '../test/harness/testWorkspace';
import { loadAverage } from './lib/machine';
import { fmtInt, fmtMs, median } from './lib/stats';

const RUNS = 10_000;
const ITERATIONS = 5;
const TARGET_TREE_MS = 300;
const TARGET_CLI_MS = 500;
const MLW = path.join(REPO_ROOT, 'bin', 'mlw');

/** Deterministic, so every run of the benchmark measures the same history. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 0x100000000;
  };
}

/** A run as the runner leaves it: lineage, environment, snapshot, logged metrics, params and tags. */
function realisticRun(i: number, rand: () => number): RunRecord {
  const created = new Date(Date.UTC(2025, 0, 1) + i * 17 * 60_000 + Math.floor(rand() * 60_000));
  const stamp = created.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const id = `${stamp}-${Math.floor(rand() * 0x10000).toString(16).padStart(4, '0')}`;
  const roll = rand();
  const status: RunStatus = roll < 0.72 ? 'Completed' : roll < 0.88 ? 'Failed' : roll < 0.97 ? 'Canceled' : 'Lost';
  const script = ['train.py', 'models/cnn/train.py', 'models/transformer/finetune.py', 'eval/evaluate.py', 'data/prepare.py'][i % 5];
  const config = ['default', 'fast', 'full', 'gpu-large'][Math.floor(rand() * 4)];
  const started = new Date(created.getTime() + 1500 + rand() * 30_000);
  const ended = new Date(started.getTime() + rand() * 3_600_000);
  const epochs = 1 + Math.floor(rand() * 50);
  const imageHash = Math.floor(rand() * 8).toString(16).padStart(12, '0');
  const run: RunRecord = {
    schemaVersion: RUN_SCHEMA_VERSION,
    id,
    script,
    args: ['--epochs', String(epochs), '--lr', (rand() / 100).toFixed(5), ...(rand() < 0.3 ? ['--augment'] : [])],
    status,
    createdAt: created.toISOString(),
    startedAt: status === 'Lost' && rand() < 0.5 ? undefined : started.toISOString(),
    endedAt: ended.toISOString(),
    environment: {
      kind: 'requirements',
      baseImage: 'python:3.12-slim',
      file: 'requirements.txt',
      imageTag: `mlw-env:${imageHash}`,
      imageId: `sha256:${imageHash.repeat(5).slice(0, 64)}`,
      built: rand() < 0.05,
    },
    imageId: `sha256:${imageHash.repeat(5).slice(0, 64)}`,
    containerId: Math.floor(rand() * 2 ** 52).toString(16).padStart(64, '0'),
    git: {
      commit: Math.floor(rand() * 2 ** 52).toString(16).padEnd(40, '0'),
      branch: rand() < 0.7 ? 'main' : `exp/${i % 40}`,
      dirty: rand() < 0.4,
      remote: 'git@github.com:example/ml-project.git',
      ...(rand() < 0.4 ? { patch: 'git.patch', untracked: ['notes.md'] } : {}),
    },
    snapshot: { files: 40 + Math.floor(rand() * 400), bytes: Math.floor(rand() * 50_000_000), hash: Math.floor(rand() * 2 ** 52).toString(16).padEnd(64, '0') },
    options: { configName: config, timeoutSeconds: 3600, resources: { cpus: 2, memoryBytes: 4 * 2 ** 30 }, ...(rand() < 0.3 ? { env: { SEED: String(i), WANDB_MODE: 'offline' } } : {}) },
    owner: { pid: 1000 + Math.floor(rand() * 30_000), host: 'workstation' },
    ...(rand() < 0.05 ? { parentId: `${stamp}-0000` } : {}),
    ...(rand() < 0.1 ? { name: `sweep ${i % 13}`, labels: ['sweep', `batch-${i % 7}`] } : {}),
    ...(rand() < 0.03 ? { starred: true } : {}),
  };
  if (status === 'Completed' || status === 'Failed') {
    run.exitCode = status === 'Completed' ? 0 : [1, 2, 137][i % 3];
    if (status === 'Failed') run.reason = `Script exited with code ${run.exitCode}.`;
    run.metrics = { loss: rand(), val_loss: rand(), accuracy: rand(), val_accuracy: rand(), f1: rand(), epoch: epochs };
    run.params = { lr: rand() / 100, batch_size: 2 ** (4 + (i % 5)), optimizer: ['adam', 'sgd', 'adamw'][i % 3], dropout: rand() / 2, epochs, seed: i };
    run.tags = { dataset: `imagenet-subset-v${i % 4}`, stage: 'exp' };
    run.artifacts = ['model.pt', 'confusion.png'];
  } else {
    run.reason = status === 'Canceled' ? 'Canceled by user.' : 'Its container is gone (removed, or Docker restarted) while no ML Workbench process was following it; the outcome is unknown.';
  }
  return run;
}

function generate(ws: string): void {
  const rand = prng(42);
  const runsDir = path.join(ws, '.mlw', 'runs');
  for (let i = 0; i < RUNS; i++) {
    const run = realisticRun(i, rand);
    fs.mkdirSync(path.join(runsDir, run.id), { recursive: true });
    fs.writeFileSync(path.join(runsDir, run.id, 'run.json'), JSON.stringify(run, null, 2) + '\n');
  }
}

async function timeIt(label: string, fn: () => unknown, before?: () => void): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    before?.();
    const t = performance.now();
    const reported = await fn();
    // A child that timed itself reports its own figure (node's start-up left out).
    samples.push(typeof reported === 'number' ? reported : performance.now() - t);
  }
  console.log(`  ${label.padEnd(50)} median ${fmtMs(median(samples)).padStart(5)} ms  (${samples.map(fmtMs).join(', ')})`);
  return median(samples);
}

/**
 * listSummaries() of a fresh RunStore in a new process, timed there: this process has read the index already,
 * and RunIndex shares what it read across stores of one process. The editor's first render is such a first read.
 */
function firstListing(ws: string): number {
  const script = `
    const { RunStore } = require(${JSON.stringify(require.resolve('../src/model/runs/runStore'))});
    const t = performance.now();
    new RunStore(${JSON.stringify(ws)}).listSummaries().then((s) => {
      if (s.length !== ${RUNS}) throw new Error('listed ' + s.length + ' runs');
      process.stdout.write(String(performance.now() - t));
    });`;
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

function mlw(ws: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [MLW, 'runs', 'list', '--workspace', ws, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`mlw runs list ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  if (r.stderr) throw new Error(`mlw runs list wrote to stderr (expected no reconcile work): ${r.stderr}`);
  return r.stdout;
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: build first (node esbuild.mjs)');
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-bench-history-'));
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-bench-history-empty-'));
  const index = path.join(ws, '.mlw', INDEX_FILE);
  try {
    const t = performance.now();
    generate(ws);
    const recordBytes = fs.readdirSync(path.join(ws, '.mlw', 'runs')).reduce((n, id) => n + fs.statSync(path.join(ws, '.mlw', 'runs', id, 'run.json')).size, 0);
    console.log(`${fmtInt(RUNS)} runs generated in ${fmtMs(performance.now() - t)} ms (run.json total ${(recordBytes / 1e6).toFixed(1)} MB); load average ${loadAverage()}`);

    // Correctness first: the index must say what the run files say.
    const all = await new RunStore(ws).list();
    const summaries = await new RunStore(ws).listSummaries();
    if (JSON.stringify(summaries) !== JSON.stringify(all.map(summarize))) throw new Error('listSummaries() differs from the summarized run.json files');
    console.log(`index: ${(fs.statSync(index).size / 1e6).toFixed(1)} MB, ${fmtInt(summaries.length)} summaries, identical to the run.json files`);

    console.log(`median of ${ITERATIONS}; listings in a new process each, timed inside it:`);
    const readAll = await timeIt('read every run.json (old store.list())', () => new RunStore(ws).list());
    const rebuild = await timeIt('first listSummaries() after index.jsonl deleted', () => firstListing(ws), () => fs.rmSync(index));
    const cold = await timeIt('first listSummaries() with a valid index', () => firstListing(ws));

    // The journal at its largest: 2 lines per run is where the next listing compacts it.
    const journalBytes = fs.statSync(index).size;
    fs.appendFileSync(index, fs.readFileSync(index));
    const bloated = await timeIt('first listSummaries(), journal of 2 lines per run', () => firstListing(ws));
    const lines = fs.readFileSync(index, 'utf8').split('\n').filter((l) => l.trim()).length;
    if (lines !== 2 * RUNS) throw new Error(`the journal was rewritten (${lines} lines): the measurement above is not of a ${2 * RUNS}-line journal`);
    // One more line and the next listing rewrites the journal, one line per run: the slowest listing there is.
    const compacting = await timeIt('first listSummaries() that compacts that journal', () => firstListing(ws), () => {
      if (fs.statSync(index).size < 1.5 * journalBytes) fs.appendFileSync(index, fs.readFileSync(index));
      fs.appendFileSync(index, '{"v":1,"deleted":"no-such-run"}\n');
    });
    if (fs.statSync(index).size > 1.1 * journalBytes) throw new Error('the journal was not compacted');

    const cliEmpty = await timeIt('mlw runs list, empty workspace (fixed cost)', () => mlw(empty));
    let out = '';
    const cli = await timeIt('mlw runs list', () => (out = mlw(ws)));
    if (out.trimEnd().split('\n').length !== RUNS + 1) throw new Error('mlw runs list did not print one line per run');
    const cliJson = await timeIt('mlw runs list --json', () => (out = mlw(ws, '--json')));
    if ((JSON.parse(out) as unknown[]).length !== RUNS) throw new Error('mlw runs list --json did not print every run');

    console.log(`load average (1 min, 2 cores) at end: ${loadAverage()}`);
    console.log(
      `run-history-scale: listSummaries ${fmtMs(cold)} ms (2-line journal ${fmtMs(bloated)} ms, compacting ${fmtMs(compacting)} ms, rebuild ${fmtMs(rebuild)} ms), ` +
        `mlw runs list ${fmtMs(cli)} ms (--json ${fmtMs(cliJson)} ms, empty workspace ${fmtMs(cliEmpty)} ms), read-all baseline ${fmtMs(readAll)} ms; ` +
        `targets: tree ≤ ${TARGET_TREE_MS} ms, CLI ≤ ${TARGET_CLI_MS} ms`,
    );
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
    fs.rmSync(empty, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
