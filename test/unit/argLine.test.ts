import * as assert from 'node:assert/strict';
import { joinArgs, paramOptions, setOption, splitArgs } from '../../src/views/runs/argLine';

describe('argument lines (Run with Arguments, Modify and Rerun)', () => {
  it('splits as a shell does and joins back to the same arguments', () => {
    assert.deepEqual(splitArgs(`--lr 0.1  --name "two words" --q 'it''s' a\\ b`), ['--lr', '0.1', '--name', 'two words', '--q', 'its', 'a b']);
    assert.deepEqual(splitArgs(''), []);
    assert.throws(() => splitArgs('--name "open'), /unclosed double quote/);
    for (const args of [['--lr', '0.1'], ['two words', "it's", '', '$HOME']]) assert.deepEqual(splitArgs(joinArgs(args)), args);
  });

  it('offers logged params the script took from its arguments or names as options, and sets them', () => {
    const offers = paramOptions({ lr: 0.1, learning_rate: 2, model: 'rf', seed: 1 }, ['--lr', '0.1', '--model=rf'], 'p.add_argument("--learning-rate", type=float)');
    assert.deepEqual(offers, [
      { param: 'lr', option: '--lr', value: '0.1' },
      { param: 'learning_rate', option: '--learning-rate', value: '2' },
      { param: 'model', option: '--model', value: 'rf' },
    ]);
    assert.deepEqual(setOption(['--lr', '0.1', '--model=rf'], '--lr', '0.01'), ['--lr', '0.01', '--model=rf']);
    assert.deepEqual(setOption(['--lr', '0.1', '--model=rf'], '--model', 'svm'), ['--lr', '0.1', '--model=svm']);
    assert.deepEqual(setOption(['--lr', '0.1'], '--learning-rate', '3'), ['--lr', '0.1', '--learning-rate', '3']);
  });
});
