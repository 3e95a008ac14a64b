/**
 * Reads what a run's script logged with the `mlw` Python module (python/mlw): `events.jsonl` in the run's
 * tracking folder, one JSON object per line, appended while the script runs. Pure: no vscode, no Docker.
 *
 * The writer appends whole lines with one write each flush, so the only damage a reader can meet is a torn last
 * line (the script is mid-flush, or was killed with SIGKILL): without its newline it is not an event yet.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunFileRefused, openRunWrittenFile } from '../common/runWrittenFile';
import { TrackingData, TrackingEvent, applyEvents, emptyTracking, parseTrackingEvent } from './trackingEvents';

export * from './trackingEvents';

/** Everything in a tracking file. A missing file (nothing logged yet, or a script that does not log) is empty. */
export async function readTracking(file: string): Promise<TrackingData> {
  const tail = new TrackingTail(file);
  const data = applyEvents(emptyTracking(), await tail.poll());
  data.skippedLines = tail.skippedLines;
  if (tail.unreadable) data.unreadable = tail.unreadable;
  return data;
}

const NEWLINE = 0x0a;
/** Read in slices so a large file never needs one buffer of its whole size. */
const READ_CHUNK = 4 * 1024 * 1024;
/**
 * The most of one tracking file the host reads: events past it are left unread (and said so), so a script
 * that writes without end cannot make every reader of the workspace's runs allocate without end.
 */
export const MAX_TRACKING_BYTES = 256 * 1024 * 1024;
/** A longer line is no event the writer makes (it writes one small object per line): it is skipped, not held. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Follows a tracking file as the script appends to it: each poll reads only the bytes added since the last one
 * and returns the events of the lines they complete; a line still being written stays pending until its newline
 * arrives. Copes with the file not existing yet, and starts over if it shrinks (replaced by a new run's file).
 * The script owns the file: when it is not a regular file (a link, a FIFO) nothing is read and `unreadable`
 * says why; polls never block and never throw for what the script put there.
 */
export class TrackingTail {
  /** Byte offset up to which the file has been read. */
  private offset = 0;
  /** Bytes after the last newline read so far: the start of a line not yet complete. */
  private pending: Buffer = Buffer.alloc(0);
  /** Inside a line longer than MAX_LINE_BYTES: its bytes are dropped up to its newline. */
  private overlong = false;
  private chain: Promise<unknown> = Promise.resolve();
  /** Complete lines so far that were not valid events. */
  skippedLines = 0;
  /** Why (part of) the file was not read, for the user: it is not a regular file, or it is too large. */
  unreadable?: string;

  constructor(readonly file: string) {}

  /** "tracking/events.jsonl": how messages name the file (the run's folder is known from context). */
  private get label(): string {
    return `${path.basename(path.dirname(this.file))}/${path.basename(this.file)}`;
  }

  /** New complete events since the last poll. Concurrent calls are queued, so no byte is read twice. */
  poll(): Promise<TrackingEvent[]> {
    const next = this.chain.then(() => this.readNew());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async readNew(): Promise<TrackingEvent[]> {
    let handle: fs.promises.FileHandle | undefined;
    try {
      handle = await openRunWrittenFile(this.file, this.label);
    } catch (err) {
      if (!(err instanceof RunFileRefused)) throw err;
      this.unreadable = err.message;
      return [];
    }
    if (!handle) return [];
    const events: TrackingEvent[] = [];
    try {
      const { size: fileSize } = await handle.stat();
      if (fileSize < this.offset) {
        this.offset = 0;
        this.pending = Buffer.alloc(0);
        this.overlong = false;
      }
      const size = Math.min(fileSize, MAX_TRACKING_BYTES);
      if (fileSize > size) {
        this.unreadable = `${this.label} is larger than ${MAX_TRACKING_BYTES / (1024 * 1024)} MB; only its first ${MAX_TRACKING_BYTES / (1024 * 1024)} MB were read.`;
      } else {
        this.unreadable = undefined;
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

  private take(chunk: Buffer, events: TrackingEvent[]): void {
    let bytes = chunk;
    if (this.overlong) {
      const end = bytes.indexOf(NEWLINE);
      if (end < 0) return;
      this.overlong = false;
      this.skippedLines++;
      bytes = bytes.subarray(end + 1);
    }
    const last = bytes.lastIndexOf(NEWLINE);
    if (last < 0) {
      if (this.pending.length + bytes.length > MAX_LINE_BYTES) {
        this.pending = Buffer.alloc(0);
        this.overlong = true;
      } else {
        this.pending = Buffer.concat([this.pending, bytes]);
      }
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
