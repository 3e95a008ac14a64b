import * as assert from 'node:assert/strict';
import { MAX_TRACEBACK_LINES, lastTraceback } from '../../src/model/runs/traceback';

const SIMPLE = [
  'loading data',
  'Traceback (most recent call last):',
  '  File "/workspace/train.py", line 12, in <module>',
  '    main()',
  '  File "/workspace/train.py", line 9, in main',
  '    raise ValueError("bad learning rate: -1")',
  'ValueError: bad learning rate: -1',
].join('\n');

describe('lastTraceback (pure)', () => {
  it('finds a traceback among ordinary output, header to exception', () => {
    const tb = lastTraceback(`${SIMPLE}\n`);
    assert.ok(tb);
    assert.equal(tb.exception, 'ValueError: bad learning rate: -1');
    assert.equal(tb.text, SIMPLE.split('\n').slice(1).join('\n'));
    assert.equal(tb.omittedLines, 0);
  });

  it('takes the last of several, and stops at the output that follows it', () => {
    const logs = [
      'Traceback (most recent call last):',
      '  File "a.py", line 1, in <module>',
      'KeyError: \'x\'',
      'retrying',
      SIMPLE,
      'ML Workbench: outputs/leak.txt was left out (a link leading outside).',
    ].join('\n');
    const tb = lastTraceback(logs);
    assert.equal(tb?.exception, 'ValueError: bad learning rate: -1');
    assert.ok(!tb?.text.includes('KeyError'));
    assert.ok(!tb?.text.includes('ML Workbench'));
  });

  it('keeps a chain of exceptions together, and Python 3.11 carets', () => {
    const logs = [
      'start',
      'Traceback (most recent call last):',
      '  File "t.py", line 2, in <module>',
      '    x = {}["k"]',
      '        ~~^^^^^',
      "KeyError: 'k'",
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "t.py", line 4, in <module>',
      '    raise RuntimeError("no key")',
      'RuntimeError: no key',
    ].join('\n');
    const tb = lastTraceback(logs);
    assert.equal(tb?.exception, 'RuntimeError: no key');
    assert.ok(tb?.text.startsWith('Traceback (most recent call last):\n  File "t.py", line 2'), tb?.text);
    assert.ok(tb?.text.includes('~~^^^^^'));
    assert.ok(tb?.text.includes('During handling of the above exception'));
  });

  it('handles CRLF, terminal colours and a bare exception name', () => {
    const logs = '\u001b[31mTraceback (most recent call last):\u001b[0m\r\n  File "x.py", line 1, in <module>\r\n    f()\r\nKeyboardInterrupt\r\n';
    const tb = lastTraceback(logs);
    assert.equal(tb?.exception, 'KeyboardInterrupt');
    assert.equal(tb?.text, 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n    f()\nKeyboardInterrupt');
  });

  it('shortens a very long traceback to its header and its end', () => {
    const frames = Array.from({ length: 500 }, (_, i) => `  File "r.py", line ${i}, in f\n    f(n - 1)`).join('\n');
    const tb = lastTraceback(`Traceback (most recent call last):\n${frames}\nRecursionError: maximum recursion depth exceeded`);
    const lines = tb!.text.split('\n');
    assert.equal(lines.length, MAX_TRACEBACK_LINES + 1);
    assert.equal(lines[0], 'Traceback (most recent call last):');
    assert.match(lines[1], /… 942 line\(s\) left out …/);
    assert.equal(lines.at(-1), 'RecursionError: maximum recursion depth exceeded');
    assert.equal(tb!.omittedLines, 942);
  });

  it('finds nothing in logs without a traceback', () => {
    assert.equal(lastTraceback('about to fail\nsomething went wrong in training\n'), undefined);
    assert.equal(lastTraceback(''), undefined);
  });
});
