import * as assert from 'node:assert/strict';
import { showControls, stripTerminalEscapes } from '../../src/model/common/terminalText';

describe('run-provided text on a terminal (pure)', () => {
  it('shows every control character of a name or value as an escape', () => {
    assert.equal(showControls('loss\u001b[2J\u001b]0;owned\u0007'), 'loss\\x1b[2J\\x1b]0;owned\\x07');
    assert.equal(showControls('a\nb\tc\rd\u009b1m\u202eright'), 'a\\nb\\tc\\rd\\x9b1m\\u202eright');
    assert.equal(showControls('plain: ünïcode, emoji 🙂, 日本'), 'plain: ünïcode, emoji 🙂, 日本');
  });

  it('strips escape sequences from build output and keeps its lines', () => {
    // Docker's classic builder wraps a step's stderr in red (ESC[91m … ESC[0m).
    assert.equal(stripTerminalEscapes('\u001b[91mERROR: No matching distribution\n\u001b[0mThe command failed\n'), 'ERROR: No matching distribution\nThe command failed\n');
    assert.equal(stripTerminalEscapes('\u001b]0;title\u0007a\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\\r\nb\u009b31mc\u001b(Bd\u0000'), 'alink\nbcd');
    assert.equal(stripTerminalEscapes('tab\tkept\n'), 'tab\tkept\n');
  });
});
