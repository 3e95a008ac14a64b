import * as assert from 'node:assert/strict';
import { formatDate } from '../../src/model/common/format';

describe('formatDate (pure): one way dates read everywhere', () => {
  it('writes local date and time as YYYY-MM-DD HH:MM, seconds when asked', () => {
    const d = new Date(2026, 11, 2, 14, 5, 9);
    assert.equal(formatDate(d), '2026-12-02 14:05');
    assert.equal(formatDate(d, { seconds: true }), '2026-12-02 14:05:09');
    // The same instant given as an ISO string (as run records keep it) or as epoch milliseconds.
    assert.equal(formatDate(d.toISOString()), '2026-12-02 14:05');
    assert.equal(formatDate(d.getTime(), { seconds: true }), '2026-12-02 14:05:09');
  });

  it('pads single digits and keeps midnight as 00:00', () => {
    assert.equal(formatDate(new Date(2025, 0, 3, 0, 0, 7), { seconds: true }), '2025-01-03 00:00:07');
  });

  it('returns text that is not a date as it is, and nothing for no date', () => {
    assert.equal(formatDate('not a date'), 'not a date');
    assert.equal(formatDate(undefined), '');
    assert.equal(formatDate(''), '');
  });

  it('does not depend on the locale: the same text with any Intl default', () => {
    const d = new Date(2026, 5, 30, 23, 59);
    const before = formatDate(d);
    const original = Intl.DateTimeFormat;
    try {
      // A locale whose own format differs (day first, other digits) must not leak in.
      (Intl as { DateTimeFormat: unknown }).DateTimeFormat = function () {
        return new original('ar-EG');
      };
      assert.equal(formatDate(d), before);
    } finally {
      (Intl as { DateTimeFormat: unknown }).DateTimeFormat = original;
    }
    assert.equal(before, '2026-06-30 23:59');
  });
});
