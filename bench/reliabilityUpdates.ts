/**
 * Two processes updating one run at once through RunStore.update, MLW_UPDATES updates in all (default 1,000,
 * half each). Every update writes a field no other update writes, so a lost update is exact to count: a field
 * missing from the final record. Also checks the record is readable at the end and reports update times.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUN_SCHEMA_VERSION } from '../src/model/runs/run';
import { RunStore } from '../src/model/runs/runStore';
import { figure } from './lib/reliability';
import { fmtMs, median, percentile } from './lib/stats';

const UPDATES = Number(process.env.MLW_UPDATES ?? 1000);
const ID = '20200101-000000-upd0';

/** The writer, run as its own process: `node reliabilityUpdates.js writer WS NAME COUNT`. */
async function writer(ws: string, name: string, count: number): Promise<void> {
  const store = new RunStore(ws);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await store.update(ID, { [`bench_${name}_${String(i).padStart(4, '0')}`]: i } as never);
    times.push(performance.now() - t0);
  }
  process.stdout.write(JSON.stringify(times));
}

async function main(): Promise<void> {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-bench-upd-'));
  const store = new RunStore(ws);
  await store.create({ schemaVersion: RUN_SCHEMA_VERSION, id: ID, script: 'x.py', args: [], status: 'Running', createdAt: new Date().toISOString() });
  const half = Math.floor(UPDATES / 2);
  const t0 = Date.now();
  const runs = ['a', 'b'].map(
    (name) =>
      new Promise<number[]>((resolve, reject) => {
        const child = spawn(process.execPath, [__filename, 'writer', ws, name, String(name === 'a' ? half : UPDATES - half)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`writer ${name} exited ${code}`))));
      }),
  );
  const times = (await Promise.all(runs)).flat();
  const elapsed = Date.now() - t0;
  let readable = true;
  let present = 0;
  try {
    const final = (await store.get(ID)) as unknown as Record<string, unknown>;
    present = Object.keys(final).filter((k) => k.startsWith('bench_')).length;
  } catch {
    readable = false;
  }
  figure('updates (2 processes, one run, distinct fields)', `${UPDATES} in ${(elapsed / 1000).toFixed(1)} s`);
  figure('fields present at the end', `${present} of ${UPDATES}`);
  figure('lost fields', UPDATES - present);
  figure('record readable at the end', readable ? 'yes' : 'NO');
  figure('update ms (median / p95 / max)', `${median(times).toFixed(1)} / ${percentile(times, 95).toFixed(1)} / ${fmtMs(Math.max(...times))}`);
  fs.rmSync(ws, { recursive: true, force: true });
  if (!readable || present !== UPDATES) process.exitCode = 1;
}

if (process.argv[2] === 'writer') {
  writer(process.argv[3], process.argv[4], Number(process.argv[5])).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
