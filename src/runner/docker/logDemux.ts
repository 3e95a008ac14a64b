/**
 * Splits Docker's multiplexed attach/logs stream (non-TTY containers) into stdout and stderr payloads, in
 * arrival order. Each frame is an 8-byte header (stream type, 3 zero bytes, big-endian length) then payload.
 * Frames may be split across chunks, so the decoder keeps the unfinished tail between calls.
 */
import type { LogStreamName } from '../targets/computeTarget';

export type { LogStreamName };

export class DockerLogDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: LogStreamName, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = 0;
    while (this.pending.length - offset >= 8) {
      const type = this.pending[offset];
      const size = this.pending.readUInt32BE(offset + 4);
      if (this.pending.length - offset - 8 < size) break;
      const payload = this.pending.subarray(offset + 8, offset + 8 + size);
      // Type 0 is stdin (never sent by logs), 1 stdout, 2 stderr.
      this.onFrame(type === 2 ? 'stderr' : 'stdout', payload);
      offset += 8 + size;
    }
    this.pending = this.pending.subarray(offset);
  }

  /** Bytes of an incomplete frame left when the stream ended (should be 0). */
  get leftover(): number {
    return this.pending.length;
  }
}

/** Turns byte chunks into whole lines for line-oriented sinks; `flush` emits a final unterminated line. */
export class LineSplitter {
  private partial = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    const text = this.partial + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  flush(): void {
    const rest = this.partial + this.decoder.decode();
    this.partial = '';
    if (rest) this.onLine(rest);
  }
}
