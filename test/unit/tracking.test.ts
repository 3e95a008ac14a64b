import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  TRACKING_FILE,
  TrackingTail,
  applyEvents,
  emptyTracking,
  finalMetrics,
  parseTrackingEvent,
  readTracking,
} from '../../src/model/runs/tracking';
import { tempDir as makeTempDir } from './support';

const line = (o: unknown) => JSON.stringify(o) + '\n';

describe('tracking events (events.jsonl reader)', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = makeTempDir('mlw-tracking-');
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('parses each kind, with and without optional fields, and refuses wrong shapes', () => {
    assert.deepEqual(parseTrackingEvent('{"kind":"metric","name":"loss","value":0.5,"step":3,"t":1.5}'), {
      kind: 'metric', name: 'loss', value: 0.5, step: 3, t: 1.5,
    });
    assert.deepEqual(parseTrackingEvent('{"kind":"metric","name":"acc","value":1,"step":null,"t":2,"goal":"max"}'), {
      kind: 'metric', name: 'acc', value: 1, step: null, t: 2, goal: 'max',
    });
    // The writer's nanosecond timestamps ("t":<ns>e-9) are plain JSON numbers.
    assert.equal(parseTrackingEvent('{"kind":"metric","name":"x","value":1,"step":null,"t":1718000000123456789e-9}')?.t, 1718000000.123456789);
    assert.deepEqual(parseTrackingEvent('{"kind":"param","name":"layers","value":[1,2],"t":1}'), { kind: 'param', name: 'layers', value: [1, 2], t: 1 });
    assert.deepEqual(parseTrackingEvent('{"kind":"param","name":"opt","value":null,"t":1}'), { kind: 'param', name: 'opt', value: null, t: 1 });
    assert.deepEqual(parseTrackingEvent('{"kind":"tag","name":"stage","value":"dev","t":1}'), { kind: 'tag', name: 'stage', value: 'dev', t: 1 });
    assert.deepEqual(parseTrackingEvent('{"kind":"artifact","path":"artifacts/model.pt","t":1}'), { kind: 'artifact', path: 'artifacts/model.pt', t: 1 });
    for (const bad of [
      '',
      'not json',
      '[1,2]',
      'null',
      '{"kind":"metric","name":"loss","value":"0.5","step":1,"t":1}',
      '{"kind":"metric","name":"","value":1,"step":1,"t":1}',
      '{"kind":"metric","name":"loss","value":1,"step":1.5,"t":1}',
      '{"kind":"metric","name":"loss","value":1,"step":1,"t":1,"goal":"up"}',
      '{"kind":"metric","name":"loss","value":1,"step":1}',
      '{"kind":"param","name":"lr","t":1}',
      '{"kind":"tag","name":"k","value":5,"t":1}',
      '{"kind":"artifact","path":"","t":1}',
      '{"kind":"sample","name":"x","t":1}',
    ]) {
      assert.equal(parseTrackingEvent(bad), undefined, bad);
    }
  });

  it('maps "NaN", "Infinity" and "-Infinity" metric values back to numbers', () => {
    const values = ['"NaN"', '"Infinity"', '"-Infinity"'].map(
      (v) => parseTrackingEvent(`{"kind":"metric","name":"m","value":${v},"step":null,"t":1}`),
    );
    assert.ok(values.every((e) => e?.kind === 'metric'));
    const numbers = values.map((e) => (e?.kind === 'metric' ? e.value : 0));
    assert.ok(Number.isNaN(numbers[0]));
    assert.deepEqual(numbers.slice(1), [Infinity, -Infinity]);
    assert.equal(parseTrackingEvent('{"kind":"metric","name":"m","value":"nan","step":null,"t":1}'), undefined);
  });

  it('reads a file: missing is empty; malformed middle lines are counted; a torn last line is not an event yet', async () => {
    const dir = tempDir();
    const file = path.join(dir, TRACKING_FILE);
    assert.deepEqual(await readTracking(file), emptyTracking());

    fs.writeFileSync(file, [
      line({ kind: 'param', name: 'lr', value: 0.1, t: 1 }),
      line({ kind: 'metric', name: 'loss', value: 1.0, step: 0, t: 2 }),
      '{"kind":"metric","name":"loss","val\n', // damaged in the middle: counted
      'garbage\n',
      '\n', // blank lines are not events, nor damage
      line({ kind: 'metric', name: 'loss', value: 0.5, step: 1, t: 3 }),
      line({ kind: 'metric', name: 'acc', value: 0.7, step: 1, t: 3, goal: 'max' }),
      line({ kind: 'tag', name: 'stage', value: 'dev', t: 4 }),
      line({ kind: 'artifact', path: 'artifacts/model.pt', t: 5 }),
      line({ kind: 'artifact', path: 'artifacts/model.pt', t: 6 }),
      line({ kind: 'param', name: 'lr', value: 0.2, t: 7 }),
      '{"kind":"metric","name":"loss","value":0.2', // torn: the writer was killed mid-line
    ].join(''));
    const data = await readTracking(file);
    assert.equal(data.skippedLines, 2);
    assert.deepEqual(data.metrics.loss, [{ step: 0, value: 1, t: 2 }, { step: 1, value: 0.5, t: 3 }]);
    assert.deepEqual(data.params, { lr: 0.2 });
    assert.deepEqual(data.tags, { stage: 'dev' });
    assert.deepEqual(data.artifacts, ['artifacts/model.pt']);
    assert.deepEqual(data.goals, { acc: 'max' });
    assert.deepEqual(finalMetrics(data), { loss: 0.5, acc: 0.7 });
  });

  it('TrackingTail returns only complete lines, keeping a line split across two appends for the next poll', async () => {
    const dir = tempDir();
    const file = path.join(dir, TRACKING_FILE);
    const tail = new TrackingTail(file);
    assert.deepEqual(await tail.poll(), [], 'no file yet');

    const first = line({ kind: 'metric', name: 'loss', value: 1, step: 0, t: 1 });
    const second = line({ kind: 'metric', name: 'loss', value: 0.25, step: 1, t: 2, goal: 'min' });
    const cut = 17;
    fs.appendFileSync(file, first + second.slice(0, cut));
    assert.deepEqual(await tail.poll(), [{ kind: 'metric', name: 'loss', value: 1, step: 0, t: 1 }]);
    assert.deepEqual(await tail.poll(), [], 'nothing new: the partial line stays pending');
    fs.appendFileSync(file, second.slice(cut));
    assert.deepEqual(await tail.poll(), [{ kind: 'metric', name: 'loss', value: 0.25, step: 1, t: 2, goal: 'min' }]);
    assert.deepEqual(await tail.poll(), []);
    assert.equal(tail.skippedLines, 0);
  });

  it('TrackingTail keeps a multi-byte character split between reads intact, and queues concurrent polls', async () => {
    const dir = tempDir();
    const file = path.join(dir, TRACKING_FILE);
    const tail = new TrackingTail(file);
    const bytes = Buffer.from(line({ kind: 'tag', name: 'note', value: 'précision ✓', t: 1 }));
    const mid = bytes.indexOf(Buffer.from('✓')) + 1; // inside the 3-byte character
    fs.writeFileSync(file, bytes.subarray(0, mid));
    assert.deepEqual(await tail.poll(), []);
    fs.appendFileSync(file, bytes.subarray(mid));
    fs.appendFileSync(file, line({ kind: 'tag', name: 'n2', value: 'x', t: 2 }));
    const [a, b] = await Promise.all([tail.poll(), tail.poll()]);
    assert.deepEqual([...a, ...b], [
      { kind: 'tag', name: 'note', value: 'précision ✓', t: 1 },
      { kind: 'tag', name: 'n2', value: 'x', t: 2 },
    ]);
  });

  it('TrackingTail starts over when the file is replaced by a shorter one', async () => {
    const dir = tempDir();
    const file = path.join(dir, TRACKING_FILE);
    const tail = new TrackingTail(file);
    fs.writeFileSync(file, line({ kind: 'tag', name: 'a', value: 'long value '.repeat(10), t: 1 }));
    assert.equal((await tail.poll()).length, 1);
    fs.writeFileSync(file, line({ kind: 'tag', name: 'b', value: 'v', t: 2 }));
    assert.deepEqual(await tail.poll(), [{ kind: 'tag', name: 'b', value: 'v', t: 2 }]);
  });

  it('applyEvents and finalMetrics: last value by arrival order, not by step; names like __proto__ stay data', () => {
    const data = applyEvents(emptyTracking(), [
      { kind: 'metric', name: 'loss', value: 0.3, step: 5, t: 1 },
      { kind: 'metric', name: 'loss', value: 0.9, step: 1, t: 2 },
      { kind: 'metric', name: '__proto__', value: 1, step: null, t: 3 },
      { kind: 'metric', name: 'constructor', value: 2, step: null, t: 3 },
      { kind: 'param', name: '__proto__', value: { polluted: true }, t: 4 },
    ]);
    const final = finalMetrics(data);
    assert.equal(final.loss, 0.9);
    assert.equal(Object.getOwnPropertyDescriptor(final, '__proto__')?.value, 1);
    assert.equal(final.constructor, 2);
    assert.equal(Object.getPrototypeOf(data.params), Object.prototype);
    assert.deepEqual(Object.keys(data.params), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(finalMetrics(emptyTracking()), {});
  });

  it('reads a large file in slices: 200k lines with every event accounted for', async () => {
    const dir = tempDir();
    const file = path.join(dir, TRACKING_FILE);
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) lines.push(`{"kind":"metric","name":"m${i % 3}","value":${i},"step":${i},"t":${i}}\n`);
    fs.writeFileSync(file, lines.join(''));
    assert.ok(fs.statSync(file).size > 4 * 1024 * 1024, 'more than one read slice');
    const data = await readTracking(file);
    assert.equal(data.skippedLines, 0);
    assert.equal(data.metrics.m0.length + data.metrics.m1.length + data.metrics.m2.length, 200_000);
    assert.deepEqual(finalMetrics(data), { m0: 199_998, m1: 199_999, m2: 199_997 });
  });
});
