import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUN_SCHEMA_VERSION, RunRecord, RunStatus, newRunId } from '../../src/model/runs/run';
import { INDEX_FILE, RunSummary, summarize } from '../../src/model/runs/runIndex';
import { RunStore } from '../../src/model/runs/runStore';
import { tempDir } from './support';

let seq = 0;
/** Distinct, ordered creation times, so newest-first order is known. */
function record(patch: Partial<RunRecord> = {}): RunRecord {
  const created = new Date(Date.UTC(2026, 0, 1) + ++seq * 1000);
  return { schemaVersion: RUN_SCHEMA_VERSION, id: newRunId(created), script: 'train.py', args: [], status: 'Queued', createdAt: created.toISOString(), ...patch };
}

/** What the index should say: every run.json, summarized, newest first (the old, slow way). */
async function expected(store: RunStore): Promise<RunSummary[]> {
  return (await store.list()).map(summarize);
}

function indexLines(root: string): string[] {
  return fs.readFileSync(path.join(root, '.mlw', INDEX_FILE), 'utf8').split('\n').filter((l) => l.trim());
}

/** Writes run.json files straight to disk, as fast as possible: a store of many runs without 10,000 store writes. */
function generateRuns(root: string, count: number): void {
  const runsDir = path.join(root, '.mlw', 'runs');
  const statuses: RunStatus[] = ['Completed', 'Completed', 'Completed', 'Failed', 'Canceled', 'Lost'];
  const start = Date.UTC(2025, 0, 1);
  for (let i = 0; i < count; i++) {
    const created = new Date(start + i * 60_000);
    const id = `${newRunId(created).slice(0, 15)}-${(i % 0x10000).toString(16).padStart(4, '0')}`;
    const status = statuses[i % statuses.length];
    const run: RunRecord = {
      schemaVersion: RUN_SCHEMA_VERSION,
      id,
      script: `experiments/model_${i % 7}.py`,
      args: ['--seed', String(i)],
      status,
      createdAt: created.toISOString(),
      startedAt: new Date(created.getTime() + 2000).toISOString(),
      endedAt: new Date(created.getTime() + 62_000).toISOString(),
      exitCode: status === 'Completed' ? 0 : 1,
      metrics: { loss: 1 / (i + 1), accuracy: (i % 100) / 100 },
      params: { lr: 0.001 * (i % 10), layers: i % 5 },
      git: { commit: 'a'.repeat(40), branch: 'main', dirty: i % 3 === 0 },
    };
    fs.mkdirSync(path.join(runsDir, id), { recursive: true });
    fs.writeFileSync(path.join(runsDir, id, 'run.json'), JSON.stringify(run, null, 2) + '\n');
  }
}

describe('RunIndex (.mlw/index.jsonl)', () => {
  let root: string;
  let store: RunStore;
  beforeEach(() => {
    root = tempDir('mlw-index-');
    store = new RunStore(root);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('keeps summaries in step with create, update and delete, newest first, and says what was deleted', async () => {
    const a = await store.create(record());
    const b = await store.create(record({ options: { configName: 'fast' } }));
    await store.update(a.id, { status: 'Running', startedAt: '2026-01-01T00:00:05Z' });
    await store.update(a.id, { status: 'Completed', exitCode: 0, metrics: { loss: 0.25 }, environment: { kind: 'base', imageTag: 'python:3.12-slim', imageId: 'sha256:1', built: false } });
    await store.update(b.id, { status: 'Failed', exitCode: 3, reason: 'Script exited with code 3.', git: { commit: 'c0ffee', branch: 'main', dirty: true } });
    const summaries = await store.listSummaries();
    assert.deepEqual(summaries, await expected(store));
    assert.deepEqual(summaries.map((s) => s.id), [b.id, a.id]);
    assert.deepEqual([summaries[0].configName, summaries[0].commit, summaries[0].dirty, summaries[1].image], ['fast', 'c0ffee', true, 'python:3.12-slim']);
    assert.equal(summaries[1].metrics?.loss, 0.25);

    const deleted: string[] = [];
    store.on('deleted', (id: string) => deleted.push(id));
    await store.delete(a.id);
    assert.deepEqual(deleted, [a.id]);
    assert.ok(!fs.existsSync(store.paths(a.id).dir));
    assert.deepEqual((await store.listSummaries()).map((s) => s.id), [b.id]);
    assert.equal(coldListing(root).digest, digest(await expected(store)), 'another process agrees');
    assert.match(indexLines(root).at(-1)!, new RegExp(`"deleted":"${a.id}"`));
  });

  it('refuses to delete a run that has not ended (its runner would recreate the folder)', async () => {
    const r = await store.create(record({ status: 'Running' }));
    await assert.rejects(store.delete(r.id), /is Running; cancel it/);
    assert.ok(fs.existsSync(store.paths(r.id).record));
  });

  it('lists nothing, and creates nothing, in a workspace without runs', async () => {
    assert.deepEqual(await store.listSummaries(), []);
    assert.ok(!fs.existsSync(path.join(root, '.mlw')));
  });

  it('loses nothing when two stores (as two processes would) write at once', async () => {
    const other = new RunStore(root);
    const mine = await Promise.all(Array.from({ length: 60 }, () => store.create(record())));
    const theirs = await Promise.all(Array.from({ length: 60 }, () => other.create(record())));
    await Promise.all([
      ...mine.map((r, i) => store.update(r.id, { status: 'Completed', exitCode: 0, metrics: { m: i }, args: ['x'.repeat(i * 40)] })),
      ...theirs.map((r, i) => other.update(r.id, { status: 'Failed', exitCode: 1, metrics: { m: -i }, args: ['y'.repeat(i * 40)] })),
    ]);
    // Every write is one whole line: nothing interleaved or torn.
    const lines = indexLines(root);
    assert.equal(lines.length, 240);
    for (const line of lines) JSON.parse(line);
    const want = await expected(store);
    assert.equal(want.length, 120);
    assert.deepEqual(await store.listSummaries(), want);
    assert.equal(coldListing(root).digest, digest(want), 'another process agrees');
  });

  it('loses nothing when two processes write at once', async () => {
    await store.create(record({ status: 'Completed' })); // the index exists, as it will after the first run
    const writer = (n: number) => `
      const { RunStore } = require(${JSON.stringify(require.resolve('../../src/model/runs/runStore'))});
      const store = new RunStore(${JSON.stringify(root)});
      (async () => {
        for (let i = 0; i < 100; i++) {
          const created = new Date(Date.UTC(2026, 1, 1) + i * 1000 + ${n} * 500);
          const id = created.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15) + '-${n}${n}${n}' + (i % 10);
          await store.create({ schemaVersion: 1, id, script: 'p${n}.py', args: [], status: 'Queued', createdAt: created.toISOString() });
          await store.update(id, { status: 'Completed', exitCode: 0, metrics: { i }, args: ['x'.repeat(i * 30)] });
        }
      })();`;
    const run = (n: number) => new Promise<number | null>((resolve) => spawn(process.execPath, ['-e', writer(n)], { stdio: 'inherit' }).on('exit', resolve));
    assert.deepEqual(await Promise.all([run(1), run(2)]), [0, 0]);
    const lines = indexLines(root);
    assert.equal(lines.length, 1 + 2 * 200);
    for (const line of lines) JSON.parse(line);
    const want = await expected(store);
    assert.equal(want.length, 201);
    assert.deepEqual(await store.listSummaries(), want);
  });

  it('drops the index rather than fail a write or keep a stale index when a line cannot be journaled', async () => {
    const r = await store.create(record({ status: 'Completed' }));
    await store.listSummaries();
    const file = path.join(root, '.mlw', INDEX_FILE);
    // An index that cannot be appended to (a symlink to nowhere stands in for a read-only file: tests run as root).
    fs.rmSync(file);
    fs.symlinkSync(path.join(root, 'nowhere', 'index.jsonl'), file);
    await store.update(r.id, { name: 'renamed' });
    assert.equal(fs.lstatSync(file, { throwIfNoEntry: false }), undefined, 'the index is gone');
    assert.equal((await store.listSummaries())[0].name, 'renamed');
    assert.equal(indexLines(root).length, 1, 'rebuilt');
  });

  it('compacts under a lock: a held lock defers it, a stale one (its process died) is taken over', async () => {
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await store.create(record({ status: 'Completed' })));
    const file = path.join(root, '.mlw', INDEX_FILE);
    fs.appendFileSync(file, 'not json\n');
    fs.writeFileSync(`${file}.lock`, '');
    assert.deepEqual(await store.listSummaries(), await expected(store));
    assert.equal(indexLines(root).length, 6, 'not compacted while another process holds the lock');
    const old = new Date(Date.now() - 5 * 60_000);
    fs.utimesSync(`${file}.lock`, old, old);
    assert.deepEqual(await store.listSummaries(), await expected(store));
    assert.equal(indexLines(root).length, 5);
    assert.ok(!fs.existsSync(`${file}.lock`));
    // The shared file lock's rules: a live holder on this host defers it, a dead one is taken over at once.
    fs.appendFileSync(file, 'not json\n');
    fs.writeFileSync(`${file}.lock`, `${process.pid} ${os.hostname()} ${Date.now()}`);
    await store.listSummaries();
    assert.equal(indexLines(root).length, 6, 'not compacted while a live process holds the lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    fs.writeFileSync(`${file}.lock`, `${dead} ${os.hostname()} ${Date.now()}`);
    assert.deepEqual(await store.listSummaries(), await expected(store));
    assert.equal(indexLines(root).length, 5, 'a lock whose process is gone is taken over at once');
    assert.ok(!fs.existsSync(`${file}.lock`));
  });

  it('skips a torn last line, and the next write is not glued to it', async () => {
    const a = await store.create(record({ status: 'Completed' }));
    const file = path.join(root, '.mlw', INDEX_FILE);
    // A writer killed mid-line.
    fs.appendFileSync(file, `\n{"v":1,"run":{"id":"${a.id}","script":"torn.py","ar`);
    assert.deepEqual(await store.listSummaries(), await expected(store));
    const b = await store.create(record({ status: 'Completed' }));
    await store.update(a.id, { name: 'after the tear' });
    // Read on from where the torn line started.
    assert.deepEqual((await store.listSummaries()).map((s) => [s.id, s.name]), [[b.id, undefined], [a.id, 'after the tear']]);
    assert.equal(coldListing(root).digest, digest(await expected(store)), 'another process agrees');
  });

  it('rebuilds a deleted index, identical to before', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await store.create(record());
      await store.update(r.id, { status: i % 2 ? 'Completed' : 'Failed', exitCode: i % 2 ? 0 : 1, metrics: { i } });
    }
    const before = await store.listSummaries();
    fs.rmSync(path.join(root, '.mlw', INDEX_FILE));
    assert.deepEqual(await store.listSummaries(), before);
    assert.equal(indexLines(root).length, 20, 'rebuilt with one line per run');
    assert.equal(coldListing(root).digest, digest(before), 'another process agrees');
  });

  it('survives a damaged index: garbage lines are skipped and the file is rewritten clean', async () => {
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await store.create(record({ status: 'Completed' })));
    const file = path.join(root, '.mlw', INDEX_FILE);
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, '\u0000\u0000garbage\n{"v":1,"run":{"id":"../../x"}}\n[1,2]\n' + good.slice(0, good.length / 2) + '\n' + 'not json\n');
    assert.equal(coldListing(root).digest, digest(await expected(store)), 'another process agrees');
    for (const line of indexLines(root)) assert.ok(JSON.parse(line).run, line);
    assert.equal(indexLines(root).length, 5);
  });

  it('finds a run folder added behind its back and drops one removed behind its back', async () => {
    const a = await store.create(record({ status: 'Completed' }));
    const b = await store.create(record({ status: 'Completed' }));
    await store.listSummaries();
    // A run copied in from another workspace (its record names the same id).
    const elsewhere = new RunStore(tempDir('mlw-index-other-'));
    const c = await elsewhere.create(record({ status: 'Completed', metrics: { acc: 0.9 } }));
    fs.cpSync(elsewhere.paths(c.id).dir, store.paths(c.id).dir, { recursive: true });
    fs.rmSync(elsewhere.workspaceRoot, { recursive: true, force: true });
    fs.rmSync(store.paths(a.id).dir, { recursive: true });
    assert.deepEqual((await store.listSummaries()).map((s) => s.id), [c.id, b.id]);
    assert.equal(coldListing(root).digest, digest(await expected(store)), 'another process agrees');
  });

  it('follows a record changed behind its back while the index shows the run not yet ended', async () => {
    const r = await store.create(record());
    await store.update(r.id, { status: 'Running' });
    await store.listSummaries();
    // A process that wrote run.json and died before journaling it.
    fs.writeFileSync(store.paths(r.id).record, JSON.stringify({ ...(await store.get(r.id)), status: 'Completed', exitCode: 0 }));
    const [s] = await store.listSummaries();
    assert.deepEqual([s.status, s.exitCode], ['Completed', 0]);
    assert.match(indexLines(root).at(-1)!, /"status":"Completed"/, 'the correction is journaled');
  });

  it('lists a damaged run.json, or one copied under another id, as Unreadable with the reason, and reports it', async () => {
    const ok = await store.create(record({ status: 'Completed' }));
    const broken = record().id;
    fs.mkdirSync(store.paths(broken).dir, { recursive: true });
    fs.writeFileSync(store.paths(broken).record, '{"schemaVersion": 1, "id": "tor');
    const copy = record().id;
    fs.cpSync(store.paths(ok.id).dir, store.paths(copy).dir, { recursive: true });
    const errors: string[] = [];
    const summaries = await store.listSummaries((id, err) => errors.push(`${id}: ${err.message}`));
    const byId = new Map(summaries.map((s) => [s.id, s]));
    assert.deepEqual([...byId.keys()].sort(), [ok.id, broken, copy].sort());
    assert.deepEqual([byId.get(ok.id)!.status, byId.get(broken)!.status, byId.get(copy)!.status], ['Completed', 'Unreadable', 'Unreadable']);
    assert.match(byId.get(broken)!.reason!, /^its run\.json is not valid JSON \(/);
    assert.match(byId.get(copy)!.reason!, /^its run\.json is for run .*; a run folder must be named after its run$/);
    assert.equal(errors.length, 2);
    assert.match(errors.find((e) => e.startsWith(broken))!, /not valid JSON/);
    assert.match(errors.find((e) => e.startsWith(copy))!, /run\.json is for run/);
    assert.ok(!indexLines(root).some((l) => l.includes('Unreadable')), 'an unreadable run is never journaled');
  });

  it('compacts a journal of superseded lines into one line per run, keeping its content', async () => {
    const runs = [];
    for (let i = 0; i < 10; i++) runs.push(await store.create(record({ status: 'Completed' })));
    for (let round = 0; round < 110; round++) {
      await Promise.all(runs.map((r, i) => store.update(r.id, { metrics: { step: round, i } })));
    }
    assert.equal(indexLines(root).length, 1110);
    const want = await expected(store);
    assert.deepEqual(await store.listSummaries(), want);
    assert.equal(indexLines(root).length, 10);
    assert.equal(coldListing(root).digest, digest(want), 'another process agrees');
    assert.deepEqual(fs.readdirSync(path.join(root, '.mlw')).sort(), ['.gitignore', INDEX_FILE, 'runs'], 'no lock or temp file left');
  });

  it('keeps lines another store appends while it compacts', async () => {
    const runs = [];
    for (let i = 0; i < 20; i++) runs.push(await store.create(record({ status: 'Completed' })));
    const writer = new RunStore(root);
    let writing = true;
    // Terminal runs are trusted to the index, so a lost line would show as a stale name.
    const writes = (async () => {
      for (let n = 0; n < 300; n++) await writer.update(runs[n % runs.length].id, { name: `n${n}` });
      writing = false;
    })();
    let compactions = 0;
    while (writing) {
      // A damaged line makes the next listing compact.
      fs.appendFileSync(path.join(root, '.mlw', INDEX_FILE), '\nnot json\n');
      await store.listSummaries();
      compactions++;
    }
    await writes;
    assert.ok(compactions > 5, `only ${compactions} compactions overlapped the writes`);
    assert.equal(coldListing(root).digest, digest(await expected(store)), 'another process agrees');
  });

  it('lists 10,000 runs from the index quickly', async function () {
    this.timeout(300_000);
    generateRuns(root, 10_000);
    const t = performance.now();
    const built = await store.listSummaries();
    const buildMs = performance.now() - t;
    assert.equal(built.length, 10_000);
    assert.equal(built[0].createdAt, '2025-01-07T22:39:00.000Z');
    // In a new process: this one has the index read already (see RunIndex's readers).
    const cold = coldListing(root);
    console.log(`      10,000 runs: index built in ${buildMs.toFixed(0)} ms, listed by a new process in ${cold.ms.toFixed(0)} ms (target ≤ 300 ms)`);
    assert.equal(cold.digest, digest(built));
    // Generous: the target is 300 ms, but a loaded 2-core VM must not make this flaky.
    assert.ok(cold.ms < 1500, `listSummaries took ${cold.ms.toFixed(0)} ms`);
  });
});

function digest(summaries: RunSummary[]): string {
  return createHash('sha256').update(JSON.stringify(summaries)).digest('hex');
}

/** listSummaries() of a fresh RunStore in a new node process, timed there (node's own start-up excluded). */
function coldListing(root: string): { ms: number; digest: string } {
  const script = `
    const { RunStore } = require(${JSON.stringify(require.resolve('../../src/model/runs/runStore'))});
    const t = performance.now();
    new RunStore(${JSON.stringify(root)}).listSummaries().then((s) => {
      const ms = performance.now() - t;
      const digest = require('node:crypto').createHash('sha256').update(JSON.stringify(s)).digest('hex');
      process.stdout.write(JSON.stringify({ ms, digest }));
    });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { ms: number; digest: string };
}
