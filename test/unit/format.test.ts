import * as assert from 'node:assert/strict';
import { formatBytes, formatDuration, formatMB, formatNumber, formatSizeAgainst } from '../../src/model/common/format';

describe('formatting (pure)', () => {
  it('formats numbers short for display and in full for data', () => {
    assert.equal(formatNumber(3), '3');
    assert.equal(formatNumber(-3), '-3');
    assert.equal(formatNumber(1 / 3), '0.333333');
    assert.equal(formatNumber(1 / 3, 'full'), String(1 / 3));
    assert.equal(formatNumber(0.00001234), '1.2340e-5');
    assert.equal(formatNumber(1234567890.5), '1.2346e+9');
    assert.equal(formatNumber(1.5e12), '1500000000000', 'integers as they are');
    assert.equal(formatNumber(0), '0');
    for (const precision of ['short', 'full'] as const) {
      assert.equal(formatNumber(NaN, precision), 'NaN');
      assert.equal(formatNumber(Infinity, precision), 'Infinity');
      assert.equal(formatNumber(-Infinity, precision), '-Infinity');
    }
  });

  it('formats durations and sizes', () => {
    assert.equal(formatDuration(undefined), '');
    assert.equal(formatDuration(42_000), '42s');
    assert.equal(formatDuration(185_000), '3m 5s');
    assert.equal(formatDuration(7_800_000), '2h 10m');
    assert.equal(formatMB(1024 * 1024 * 1.5), '1.5 MB');
    assert.equal(formatMB(1024 * 1024 * 20), '20 MB');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KB');
    assert.equal(formatBytes(20 * 1024 * 1024), '20 MB');
  });

  it('shows a size and its limit in one binary unit, with the decimals it takes to tell them apart', () => {
    // 210,000,000 bytes against the 200 MB (200 × 1024²) default of mlw.snapshotMaxMB.
    assert.deepEqual(formatSizeAgainst(210_000_000, 200 * 1024 * 1024), { size: '200.3 MB', limit: '200.0 MB' });
    assert.deepEqual(formatSizeAgainst(3 * 1024 * 1024, 1024 * 1024), { size: '3.0 MB', limit: '1.0 MB' });
    assert.deepEqual(formatSizeAgainst(200 * 1024 * 1024 + 2000, 200 * 1024 * 1024), { size: '200.002 MB', limit: '200.000 MB' });
    assert.deepEqual(formatSizeAgainst(200 * 1024 * 1024 + 1, 200 * 1024 * 1024), { size: '209715201 bytes', limit: '209715200 bytes' });
    assert.deepEqual(formatSizeAgainst(2 * 1024 ** 3, 1536 * 1024 * 1024), { size: '2.0 GB', limit: '1.5 GB' });
    assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MB', 'binary, as the limits are');
    assert.equal(formatBytes(1024 ** 3 * 1.2), '1.2 GB');
  });
});
