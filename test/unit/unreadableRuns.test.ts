import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_SCHEMA_VERSION, RunRecord, newRunId } from '../../src/model/runs/run';
import { INDEX_FILE, RunSummary } from '../../src/model/runs/runIndex';
import { RunStore } from '../../src/model/runs/runStore';
import { REPO_ROOT } from '../harness/testWorkspace';
import { tempDir } from './support';

const MLW = path.join(REPO_ROOT, 'bin', 'mlw');

let seq = 0;
function completed(patch: Partial<RunRecord> = {}): RunRecord {
  const created = new Date(Date.UTC(2026, 1, 1) + ++seq * 1000);
  return {
    schemaVersion: RUN_SCHEMA_VERSION,
    id: newRunId(created),
    script: 'train.py',
    args: [],
    status: 'Completed',
    createdAt: created.toISOString(),
    startedAt: created.toISOString(),
    endedAt: new Date(created.getTime() + 5000).toISOString(),
    exitCode: 0,
    ...patch,
  };
}

type Outcomes = Record<string, [string, string | RegExp | undefined]>;

/** [status, reason] of each run, by id. */
function outcomes(summaries: RunSummary[]): Outcomes {
  return Object.fromEntries(summaries.map((s) => [s.id, [s.status, s.reason]]));
}

/** Outcomes equal to `want`, where a pattern stands for a reason that must match it. */
function assertOutcomes(got: Outcomes, want: Outcomes, message: string): void {
  const matched = Object.fromEntries(
    Object.entries(got).map(([id, [status, reason]]) => {
      const pattern = want[id]?.[1];
      return [id, [status, pattern instanceof RegExp && typeof reason === 'string' && pattern.test(reason) ? pattern : reason]];
    }),
  );
  assert.deepEqual(matched, want, message);
}

/** listSummaries() of a fresh store in a new process (which has read nothing of the index yet). */
function coldOutcomes(root: string): Outcomes {
  const script = `
    const { RunStore } = require(${JSON.stringify(require.resolve('../../src/model/runs/runStore'))});
    new RunStore(${JSON.stringify(root)}).listSummaries().then((s) => process.stdout.write(JSON.stringify(s)));`;
  return outcomes(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })));
}

const WRONG_CREATED = 'its run.json has createdAt 42, not a date and time (ISO 8601 text)';
const NEWER = `it was written by a newer ML Workbench (schema ${RUN_SCHEMA_VERSION + 1}); update the extension or CLI to read it.`;

describe('Unreadable run records (truncated, wrong shape, newer schema)', () => {
  let root: string;
  let store: RunStore;
  beforeEach(() => {
    root = tempDir('mlw-unreadable-');
    store = new RunStore(root);
  });

  it('are listed as Unreadable with the reason while the index exists, after a rebuild, and by another process', async () => {
    const ok = await store.create(completed());
    const truncated = await store.create(completed());
    const wrongShape = await store.create(completed());
    const newer = await store.create(completed());
    const wrongArgs = await store.create(completed());
    // The index knows them all as healthy Completed runs.
    assert.deepEqual(Object.values(outcomes(await store.listSummaries())).map(([s]) => s), Array(5).fill('Completed'));
    // Damaged behind the index's back, in place (same file) and by replacing the file.
    const file = (r: RunRecord) => store.paths(r.id).record;
    fs.truncateSync(file(truncated), 60);
    fs.writeFileSync(file(wrongShape), JSON.stringify({ ...wrongShape, createdAt: 42 }, null, 2));
    fs.writeFileSync(`${file(newer)}.new`, JSON.stringify({ ...newer, schemaVersion: RUN_SCHEMA_VERSION + 1 }, null, 2));
    fs.renameSync(`${file(newer)}.new`, file(newer));
    fs.writeFileSync(file(wrongArgs), JSON.stringify({ ...wrongArgs, args: '--lr 0.1' }, null, 2));
    const want: Outcomes = {
      [ok.id]: ['Completed', undefined],
      // The parser's own words (they vary with the Node version) in brackets.
      [truncated.id]: ['Unreadable', /^its run\.json is not valid JSON \(.* at position 60\)$/],
      [wrongShape.id]: ['Unreadable', WRONG_CREATED],
      [newer.id]: ['Unreadable', NEWER],
      [wrongArgs.id]: ['Unreadable', 'its run.json has args "--lr 0.1", not a list of text'],
    };
    const errors: string[] = [];
    const listed = await store.listSummaries((id) => errors.push(id));
    assertOutcomes(outcomes(listed), want, 'while the index exists');
    assert.deepEqual(errors.sort(), [truncated.id, wrongShape.id, newer.id, wrongArgs.id].sort(), 'each is reported too');
    assert.equal(listed.find((s) => s.id === wrongShape.id)!.createdAt, new Date(Date.UTC(2026, 1, 1) + (seq - 2) * 1000).toISOString(), 'created at the time its id says');
    assert.equal(listed.find((s) => s.id === newer.id)!.script, 'train.py', 'what passed its check is kept');
    assertOutcomes(coldOutcomes(root), want, 'another process agrees');
    fs.rmSync(path.join(root, '.mlw', INDEX_FILE));
    assertOutcomes(outcomes(await store.listSummaries()), want, 'after a rebuild of the index');
    assertOutcomes(coldOutcomes(root), want, 'after a rebuild, in another process');
    // Repaired (as a newer version would leave it, or by hand): healthy again, and journaled.
    fs.writeFileSync(file(wrongShape), JSON.stringify(wrongShape, null, 2));
    assert.deepEqual(outcomes(await store.listSummaries())[wrongShape.id], ['Completed', undefined]);
    assert.deepEqual(coldOutcomes(root)[wrongShape.id], ['Completed', undefined]);
  });

  it('are refused by get and update with the reason, and can still be deleted', async () => {
    const r = await store.create(completed());
    fs.writeFileSync(store.paths(r.id).record, JSON.stringify({ ...r, createdAt: 42 }));
    await assert.rejects(store.get(r.id), { name: 'UnreadableRunError', message: `Run ${r.id} cannot be read: ${WRONG_CREATED}` });
    await assert.rejects(store.update(r.id, { starred: true }), { message: `Run ${r.id} cannot be read: ${WRONG_CREATED}` });
    assert.equal(JSON.parse(fs.readFileSync(store.paths(r.id).record, 'utf8')).createdAt, 42, 'the damaged record is left as it was');
    await store.delete(r.id);
    assert.deepEqual(await store.listSummaries(), []);
  });

  it('mlw runs list shows a wrong-shape record as Unreadable with the reason instead of crashing; runs show explains', async () => {
    const ok = await store.create(completed());
    const bad = await store.create(completed({ script: 'bad.py' }));
    fs.writeFileSync(store.paths(bad.id).record, JSON.stringify({ ...bad, createdAt: 42 }, null, 2));
    fs.rmSync(path.join(root, '.mlw', INDEX_FILE)); // the listing rebuilds the index
    // An engine that is not there: an unreadable run is not one to reconcile, so listing makes no Docker call.
    const mlw = (...args: string[]) => spawnSync(MLW, [...args, '--workspace', root, '--docker-host', 'unix:///tmp/mlw-no-engine.sock'], { encoding: 'utf8' });
    const list = mlw('runs', 'list');
    assert.equal(list.status, 0, list.stderr);
    const rows = list.stdout.trim().split('\n');
    assert.match(rows[0], /^ID\s+STATUS\s+SCRIPT\s+CREATED\s+DURATION\s+EXIT$/);
    assert.match(list.stdout, new RegExp(`^${ok.id}\\s+Completed\\s+train\\.py\\s+2026-02-01 \\S+\\s+5s\\s+0$`, 'm'));
    assert.match(list.stdout, new RegExp(`^${bad.id}\\s+Unreadable\\s+bad\\.py\\s+2026-02-01 \\S+\\s+-\\s+-$`, 'm'));
    assert.equal(list.stderr, `mlw: run ${bad.id} cannot be read: ${WRONG_CREATED}\n`);
    const json = JSON.parse(mlw('runs', 'list', '--json').stdout) as RunSummary[];
    assert.deepEqual(outcomes(json), { [ok.id]: ['Completed', undefined], [bad.id]: ['Unreadable', WRONG_CREATED] });
    const show = mlw('runs', 'show', bad.id);
    assert.equal(show.status, 2);
    assert.equal(show.stderr, `mlw: Run ${bad.id} cannot be read: ${WRONG_CREATED}\n`);
  });
});
