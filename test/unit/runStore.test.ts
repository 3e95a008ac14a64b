import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../src/model/common/atomicFile';
import { RUN_SCHEMA_VERSION, RunRecord, newRunId } from '../../src/model/runs/run';
import { RunStore } from '../../src/model/runs/runStore';
import { tempDir } from './support';

function record(id = newRunId()): RunRecord {
  return { schemaVersion: RUN_SCHEMA_VERSION, id, script: 'train.py', args: [], status: 'Queued', createdAt: new Date().toISOString() };
}

describe('RunStore', () => {
  let root: string;
  let store: RunStore;
  beforeEach(() => {
    root = tempDir();
    store = new RunStore(root);
  });

  it('creates the run folder and outputs; .mlw/.gitignore hides run data from git but shares run configurations', async () => {
    const r = await store.create(record());
    assert.ok(fs.statSync(store.paths(r.id).outputs).isDirectory());
    assert.deepEqual(await store.get(r.id), r);
    fs.mkdirSync(path.join(root, '.mlw', 'runconfigs'));
    fs.writeFileSync(path.join(root, '.mlw', 'runconfigs', 'default.yaml'), 'args: []\n');
    fs.writeFileSync(path.join(root, '.mlw', 'Dockerfile'), 'FROM x\n');
    execFileSync('git', ['init', '-q'], { cwd: root });
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: root, encoding: 'utf8' });
    assert.deepEqual(status.trim().split('\n').map((l) => l.slice(3)).sort(), ['.mlw/.gitignore', '.mlw/Dockerfile', '.mlw/runconfigs/default.yaml']);
  });

  it('refuses to create a run whose id exists already, keeping the first record', async () => {
    const r = await store.create(record());
    await assert.rejects(store.create({ ...record(r.id), script: 'other.py' }), /exists already/);
    assert.equal((await store.get(r.id))?.script, 'train.py');
    assert.match(newRunId(), /^\d{8}-\d{6}-[0-9a-f]{8}$/);
  });

  it('leaves a .mlw/.gitignore the user edited alone', async () => {
    fs.mkdirSync(path.join(root, '.mlw'));
    fs.writeFileSync(path.join(root, '.mlw', '.gitignore'), 'runs/\n');
    await store.create(record());
    assert.equal(fs.readFileSync(path.join(root, '.mlw', '.gitignore'), 'utf8'), 'runs/\n');
  });

  it('keeps every field when many updates of one run race', async () => {
    const r = await store.create(record());
    await Promise.all([
      store.update(r.id, { status: 'Running', startedAt: '2026-01-01T00:00:00.000Z' }),
      store.update(r.id, { imageId: 'sha256:x' }),
      store.update(r.id, { containerId: 'c1' }),
      store.update(r.id, { exitCode: 0 }),
    ]);
    const got = await store.get(r.id);
    assert.equal(got?.status, 'Running');
    assert.equal(got?.imageId, 'sha256:x');
    assert.equal(got?.containerId, 'c1');
    assert.equal(got?.exitCode, 0);
  });

  it('loses no field when two processes update one run at once (200 distinct fields each)', async () => {
    const r = await store.create(record());
    const writer = (n: number) => `
      const { RunStore } = require(${JSON.stringify(require.resolve('../../src/model/runs/runStore'))});
      const store = new RunStore(${JSON.stringify(root)});
      (async () => {
        for (let i = 0; i < 200; i++) await store.update(${JSON.stringify(r.id)}, { ['p${n}_' + i]: i });
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const run = (n: number) => new Promise<number | null>((resolve) => spawn(process.execPath, ['-e', writer(n)], { stdio: 'inherit' }).on('exit', resolve));
    assert.deepEqual(await Promise.all([run(1), run(2)]), [0, 0]);
    const got = (await store.get(r.id)) as unknown as Record<string, unknown>;
    const missing = [1, 2].flatMap((n) => Array.from({ length: 200 }, (_, i) => `p${n}_${i}`)).filter((k) => got[k] === undefined);
    assert.deepEqual(missing, [], `${missing.length} of 400 fields were lost`);
    assert.deepEqual(fs.readdirSync(store.paths(r.id).dir).filter((f) => f.includes('.lock')), [], 'no lock is left behind');
  });

  it('loses no field in 1,000 updates of one run from two processes (the reliability figure)', async function () {
    this.timeout(120_000);
    const r = await store.create(record());
    const perProcess = 500;
    const writer = (n: number) => `
      const { RunStore } = require(${JSON.stringify(require.resolve('../../src/model/runs/runStore'))});
      const store = new RunStore(${JSON.stringify(root)});
      (async () => {
        for (let i = 0; i < ${perProcess}; i++) await store.update(${JSON.stringify(r.id)}, { ['w${n}_' + i]: i, lastWriter: ${n} });
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const run = (n: number) => new Promise<number | null>((resolve) => spawn(process.execPath, ['-e', writer(n)], { stdio: 'inherit' }).on('exit', resolve));
    const started = performance.now();
    assert.deepEqual(await Promise.all([run(1), run(2)]), [0, 0]);
    const ms = performance.now() - started;
    const got = (await store.get(r.id)) as unknown as Record<string, unknown>;
    const lost = [1, 2].flatMap((n) => Array.from({ length: perProcess }, (_, i) => `w${n}_${i}`)).filter((k) => got[k] !== Number(k.split('_')[1]));
    console.log(`      2 processes × ${perProcess} updates of one run: ${lost.length} of ${2 * perProcess} fields lost, ${ms.toFixed(0)} ms (${(ms / perProcess).toFixed(1)} ms an update per process)`);
    assert.deepEqual(lost, []);
    const [summary] = await store.listSummaries();
    assert.equal(summary.id, r.id);
    assert.deepEqual(await store.get(r.id), got, 'the record reads back whole');
  });

  it('takes over the lock of a process that died while updating', async () => {
    const r = await store.create(record());
    // A lock whose holder (a pid that cannot exist) is gone: the next update must not wait for it.
    fs.writeFileSync(`${store.paths(r.id).record}.lock`, `999999999 ${require('node:os').hostname()} 0`);
    const started = Date.now();
    await store.update(r.id, { name: 'after a crash' });
    assert.ok(Date.now() - started < 2000, 'the stale lock was waited for');
    assert.equal((await store.get(r.id))?.name, 'after a crash');
  });

  it('takes over an empty lock at once (a holder killed between creating and writing it): no update times out', async () => {
    const r = await store.create(record());
    const lock = `${store.paths(r.id).record}.lock`;
    fs.writeFileSync(lock, '');
    const past = new Date(Date.now() - 3000);
    fs.utimesSync(lock, past, past);
    const started = Date.now();
    await store.update(r.id, { name: 'after an empty lock' });
    assert.ok(Date.now() - started < 2000, `the empty lock was waited for ${Date.now() - started} ms`);
    assert.equal((await store.get(r.id))?.name, 'after an empty lock');
    assert.deepEqual(fs.readdirSync(store.paths(r.id).dir).filter((f) => f.includes('.lock')), [], 'no lock or aside file is left');
  });

  it('a process killed while creating runs never leaves a run folder without its run.json', async function () {
    this.timeout(60_000);
    const storeModule = path.resolve(__dirname, '../../src/model/runs/runStore.js');
    const runModule = path.resolve(__dirname, '../../src/model/runs/run.js');
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, ['-e', `
        const { RunStore } = require(${JSON.stringify(storeModule)});
        const { newRunId } = require(${JSON.stringify(runModule)});
        const s = new RunStore(${JSON.stringify(root)});
        (async () => { for (;;) await s.create({ schemaVersion: ${RUN_SCHEMA_VERSION}, id: newRunId(), script: 'train.py', args: [], status: 'Queued', createdAt: new Date().toISOString() }); })();
      `]);
      await new Promise((r) => setTimeout(r, 400 + round * 37));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
    }
    const runsDir = path.join(root, '.mlw', 'runs');
    const folders = fs.readdirSync(runsDir).filter((n) => !n.startsWith('.'));
    assert.ok(folders.length > 20, `runs were created before the kills (${folders.length})`);
    const bare = folders.filter((n) => !fs.existsSync(path.join(runsDir, n, 'run.json')));
    assert.deepEqual(bare, [], 'folders without a run.json');
  });

  it('never leaves a torn run.json or temp files, even with 200 concurrent writes', async () => {
    const r = await store.create(record());
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.update(r.id, { args: [String(i), 'x'.repeat(i * 50)] })));
    const dir = store.paths(r.id).dir;
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    assert.equal((await store.get(r.id))?.args[0], '199');
  });

  it('atomic writes replace content whole: a reader never sees a mix', async () => {
    const file = path.join(root, 'x.json');
    const big = (c: string) => JSON.stringify({ v: c.repeat(200_000) });
    await writeFileAtomic(file, big('a'));
    let torn = 0;
    const reader = (async () => {
      for (let i = 0; i < 200; i++) {
        const text = fs.readFileSync(file, 'utf8');
        try {
          JSON.parse(text);
        } catch {
          torn++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 30; i++) await writeFileAtomic(file, big(i % 2 ? 'a' : 'b'));
    await reader;
    assert.equal(torn, 0);
  });

  it('lists newest first and skips (and reports) a damaged record instead of failing', async () => {
    const older = await store.create(record(newRunId(new Date('2026-01-01T00:00:00Z'))));
    const newer = await store.create(record(newRunId(new Date('2026-02-01T00:00:00Z'))));
    const broken = newRunId(new Date('2026-03-01T00:00:00Z'));
    fs.mkdirSync(store.paths(broken).dir, { recursive: true });
    fs.writeFileSync(store.paths(broken).record, '{"schemaVersion": 1, "id": "tor');
    const errors: string[] = [];
    const runs = await store.list((id) => errors.push(id));
    assert.deepEqual(runs.map((r) => r.id), [newer.id, older.id]);
    assert.deepEqual(errors, [broken]);
  });

  it('refuses a record from a newer schema with a message saying to update', async () => {
    const r = await store.create(record());
    fs.writeFileSync(store.paths(r.id).record, JSON.stringify({ ...r, schemaVersion: RUN_SCHEMA_VERSION + 1 }));
    await assert.rejects(store.get(r.id), /newer ML Workbench.*update/);
  });

  it('resolves unique id prefixes and suffixes, and explains ambiguity', async () => {
    const a = await store.create(record('20260101-000000-aaaa'));
    await store.create(record('20260101-000000-bbbb'));
    assert.equal(await store.resolveId('aaaa'), a.id);
    await assert.rejects(store.resolveId('20260101'), /matches 2 runs/);
    await assert.rejects(store.resolveId('zzzz'), /No run matches/);
  });

  it('rejects ids that could escape the runs folder', () => {
    assert.throws(() => store.paths('../../etc'), /Invalid run id/);
  });
});
