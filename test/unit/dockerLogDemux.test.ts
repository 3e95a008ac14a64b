import * as assert from 'node:assert/strict';
import { DockerLogDemuxer, LineSplitter, LogStreamName } from '../../src/runner/docker/logDemux';

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('Docker log demultiplexing', () => {
  it('splits frames in order, whatever the chunk boundaries', () => {
    const stream = Buffer.concat([frame(1, 'out 1\n'), frame(2, 'err 1\n'), frame(1, 'out 2\n')]);
    for (let cut = 1; cut < stream.length; cut++) {
      const got: [LogStreamName, string][] = [];
      const d = new DockerLogDemuxer((s, p) => got.push([s, p.toString()]));
      d.push(stream.subarray(0, cut));
      d.push(stream.subarray(cut));
      assert.deepEqual(got, [['stdout', 'out 1\n'], ['stderr', 'err 1\n'], ['stdout', 'out 2\n']], `cut at ${cut}`);
      assert.equal(d.leftover, 0);
    }
  });

  it('joins lines split across chunks, including multi-byte characters, and flushes the last partial line', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const bytes = Buffer.from('accuracy: 0.93 ✓\r\npartial');
    s.push(bytes.subarray(0, 16));
    s.push(bytes.subarray(16));
    s.flush();
    assert.deepEqual(lines, ['accuracy: 0.93 ✓', 'partial']);
  });
});
