import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listOutputs } from '../../src/runner/artifacts';
import { OutputPreviews } from '../../src/views/details/outputPreviews';
import { completedRunRecord } from '../harness/runFixtures';
import { emptyTracking } from '../../src/model/runs/tracking';
import { buildRunDetailsState, deletedRunState } from '../../src/views/protocol/runDetailsData';
import {
  MAX_IMAGES,
  MAX_IMAGE_BYTES,
  MAX_TABLE_BYTES,
  MAX_TABLE_COLUMNS,
  MAX_TABLE_ROWS,
  csvTable,
  imageBytesMatch,
  jsonTable,
  parseCsv,
  previewKindOf,
} from '../../src/views/protocol/runDetailsPreviews';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

describe('Run details output previews', () => {
  describe('tables and kinds (pure)', () => {
    it('knows previews by extension, and checks the bytes of images', () => {
      assert.deepEqual(previewKindOf('plots/A.PNG'), { kind: 'image', mime: 'image/png' });
      assert.deepEqual(previewKindOf('x.jpeg'), { kind: 'image', mime: 'image/jpeg' });
      assert.deepEqual(previewKindOf('x.svg'), { kind: 'image', mime: 'image/svg+xml' });
      assert.deepEqual(previewKindOf('t.csv'), { kind: 'table', format: 'csv' });
      assert.deepEqual(previewKindOf('t.json'), { kind: 'table', format: 'json' });
      assert.equal(previewKindOf('model.pkl'), undefined);
      assert.equal(previewKindOf('png'), undefined);
      assert.ok(imageBytesMatch('image/png', PNG));
      assert.ok(!imageBytesMatch('image/png', Buffer.from('<svg></svg>')));
      assert.ok(imageBytesMatch('image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xe0])));
      assert.ok(imageBytesMatch('image/svg+xml', Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')));
      assert.ok(!imageBytesMatch('image/svg+xml', Buffer.from('<html><script>1</script></html>')));
    });

    it('parses CSV with quotes, doubled quotes, newlines in fields, CRLF and a BOM', () => {
      const { records } = parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\r\n"two\nlines",3\r\n', 10);
      assert.deepEqual(records, [['a', 'b'], ['x, y', 'say "hi"'], ['two\nlines', '3']]);
    });

    it('keeps the first rows and columns of a large CSV and says it cut', () => {
      const header = Array.from({ length: 30 }, (_, i) => `c${i}`).join(',');
      const rows = Array.from({ length: 100 }, (_, r) => Array.from({ length: 30 }, (_, c) => r * c).join(','));
      const t = csvTable([header, ...rows].join('\n'), true)!;
      assert.equal(t.columns.length, MAX_TABLE_COLUMNS);
      assert.equal(t.rows.length, MAX_TABLE_ROWS);
      assert.ok(t.truncated);
      assert.deepEqual(csvTable('a,b\n1,2\n', true), { columns: ['a', 'b'], rows: [['1', '2']], truncated: false });
      assert.equal(csvTable('', true), undefined);
    });

    it('shows JSON lists of objects by key, lists of values, and objects as key/value', () => {
      assert.deepEqual(jsonTable('[{"a":1,"b":"x"},{"a":2,"c":null}]'), { columns: ['a', 'b', 'c'], rows: [['1', 'x', ''], ['2', '', 'null']], truncated: false });
      assert.deepEqual(jsonTable('[1,"two",[3]]'), { columns: ['value'], rows: [['1'], ['two'], ['[3]']], truncated: false });
      assert.deepEqual(jsonTable('{"__proto__":{"x":1},"acc":0.9}'), { columns: ['key', 'value'], rows: [['__proto__', '{"x":1}'], ['acc', '0.9']], truncated: false });
      assert.equal(jsonTable('not json'), undefined);
      assert.equal(jsonTable('42'), undefined);
    });
  });

  describe('reading a real outputs folder', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-previews-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('shows at most the image cap inline, lists larger files and fake images, and never follows a link out', async () => {
      const outputs = path.join(dir, 'outputs');
      fs.mkdirSync(outputs, { recursive: true });
      for (let i = 0; i < MAX_IMAGES + 1; i++) fs.writeFileSync(path.join(outputs, `img${String(i).padStart(2, '0')}.png`), PNG);
      const big = Buffer.alloc(MAX_IMAGE_BYTES + 1);
      PNG.copy(big);
      fs.writeFileSync(path.join(outputs, 'big.png'), big);
      fs.writeFileSync(path.join(outputs, 'fake.png'), 'not a png');
      fs.writeFileSync(path.join(outputs, 'large.csv'), 'a\n' + '1\n'.repeat(MAX_TABLE_BYTES));
      fs.writeFileSync(path.join(outputs, 'small.csv'), 'a,b\n1,2\n');
      fs.writeFileSync(path.join(dir, 'secret.csv'), 'token\nhunter2\n');
      fs.symlinkSync(path.join(dir, 'secret.csv'), path.join(outputs, 'leak.csv'));
      const skipped: string[] = [];
      const listed = await listOutputs(outputs, (rel) => skipped.push(rel));
      const previews = await new OutputPreviews(outputs).read(listed);
      const by = Object.fromEntries(previews.map((p) => [p.path, p]));
      const images = previews.filter((p) => p.kind === 'image');
      assert.equal(images.length, MAX_IMAGES);
      assert.ok(images.every((p) => p.kind === 'image' && p.src === `data:image/png;base64,${PNG.toString('base64')}`));
      assert.equal(by['big.png'].kind, 'listed');
      assert.equal(by['fake.png'].kind, 'listed');
      assert.match(by['fake.png'].kind === 'listed' ? by['fake.png'].reason : '', /not a PNG image/);
      assert.equal(by['large.csv'].kind, 'listed');
      assert.deepEqual(by['small.csv'], { path: 'small.csv', kind: 'table', format: 'csv', size: 8, columns: ['a', 'b'], rows: [['1', '2']], truncated: false });
      assert.equal(by['leak.csv'], undefined, 'a link leading outside is not listed, so never read');
      assert.deepEqual(skipped, ['leak.csv']);
      // The 13th image in listing order is the one only listed.
      const over = previews.find((p) => p.path === 'img12.png');
      assert.equal(over?.kind, 'listed');
      assert.ok(!JSON.stringify(previews).includes('hunter2'));
    });

    it('reads a preview again only when the file changed', async () => {
      const outputs = path.join(dir, 'again');
      fs.mkdirSync(outputs, { recursive: true });
      const file = path.join(outputs, 'm.json');
      fs.writeFileSync(file, '{"a":1}');
      const previews = new OutputPreviews(outputs);
      const first = await previews.read(await listOutputs(outputs));
      assert.equal((await previews.read(await listOutputs(outputs)))[0], first[0], 'the same object: not read again');
      fs.writeFileSync(file, '{"a":22}');
      const later = await previews.read(await listOutputs(outputs));
      assert.deepEqual(later[0].kind === 'table' && later[0].rows, [['a', '22']]);
    });
  });

  describe('state', () => {
    it('carries the previews, and a traceback only for a failed run', () => {
      const extra = { folder: 'file:///ws', folderName: 'ws', hasPatch: false, hasBuildLog: false, hasLogs: true, environmentFileAvailable: false, traceback: 'Traceback …\nValueError: x' };
      const failed = buildRunDetailsState(completedRunRecord('20260101-000000-aaaa', { status: 'Failed', reason: 'Script exited with code 1.' }), emptyTracking(), [], extra);
      assert.equal(failed.summary.traceback, 'Traceback …\nValueError: x');
      const ok = buildRunDetailsState(completedRunRecord('20260101-000000-aaaa'), emptyTracking(), [], extra);
      assert.equal(ok.summary.traceback, undefined);
      assert.deepEqual(ok.previews, []);
    });

    it('says a deleted run is deleted, with nothing of the run in it', () => {
      const s = deletedRunState('20260101-000000-aaaa', 'file:///ws', 'ws');
      assert.deepEqual(Object.keys(s).sort(), ['deleted', 'folder', 'folderName', 'message', 'runId', 'title']);
      assert.equal(s.title, 'Run aaaa (deleted)');
    });
  });
});
