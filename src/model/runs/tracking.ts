/**
 * Reads what a run's script logged with the `mlw` Python module (python/mlw): `events.jsonl` in the run's
 * tracking folder, one JSON object per line, appended while the script runs. Pure: no vscode, no Docker.
 *
 * The writer appends whole lines with one write each flush, so the only damage a reader can meet is a torn last
 * line (the script is mid-flush, or was killed with SIGKILL): without its newline it is not an event yet.
 */
import * as fs from 'node:fs';
import { TrackingData, TrackingEvent, applyEvents, emptyTracking, parseTrackingEvent } from './trackingEvents';

export * from './trackingEvents';

/** Everything in a tracking file. A missing file (nothing logged yet, or a script that does not log) is empty. */
export async function readTracking(file: string): Promise<TrackingData> {
  const tail = new TrackingTail(file);
  const data = applyEvents(emptyTracking(), await tail.poll());
  data.skippedLines = tail.skippedLines;
  return data;
}

const NEWLINE = 0x0a;
/** Read in slices so a large file never needs one buffer of its whole size. */
const READ_CHUNK = 4 * 1024 * 1024;

/**
 * Follows a tracking file as the script appends to it: each poll reads only the bytes added since the last one
 * and returns the events of the lines they complete; a line still being written stays pending until its newline
 * arrives. Copes with the file not existing yet, and starts over if it shrinks (replaced by a new run's file).
 */
export class TrackingTail {
  /** Byte offset up to which the file has been read. */
  private offset = 0;
  /** Bytes after the last newline read so far: the start of a line not yet complete. */
  private pending: Buffer = Buffer.alloc(0);
  private chain: Promise<unknown> = Promise.resolve();
  /** Complete lines so far that were not valid events. */
  skippedLines = 0;

  constructor(readonly file: string) {}

  /** New complete events since the last poll. Concurrent calls are queued, so no byte is read twice. */
  poll(): Promise<TrackingEvent[]> {
    const next = this.chain.then(() => this.readNew());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async readNew(): Promise<TrackingEvent[]> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const events: TrackingEvent[] = [];
    try {
      const { size } = await handle.stat();
      if (size < this.offset) {
        this.offset = 0;
        this.pending = Buffer.alloc(0);
      }
      while (this.offset < size) {
        const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - this.offset));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.take(chunk.subarray(0, bytesRead), events);
      }
    } finally {
      await handle.close();
    }
    return events;
  }

  private take(bytes: Buffer, events: TrackingEvent[]): void {
    const last = bytes.lastIndexOf(NEWLINE);
    if (last < 0) {
      this.pending = Buffer.concat([this.pending, bytes]);
      return;
    }
    // Splitting at newline bytes is safe in UTF-8: 0x0a never occurs inside a multi-byte character.
    const complete = this.pending.length ? Buffer.concat([this.pending, bytes.subarray(0, last)]) : bytes.subarray(0, last);
    this.pending = Buffer.from(bytes.subarray(last + 1)); // a copy, so the chunk can be freed
    for (const line of complete.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      const event = parseTrackingEvent(line);
      if (event) events.push(event);
      else this.skippedLines++;
    }
  }
}
