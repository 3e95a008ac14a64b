/**
 * `.mlw/index.jsonl`: a journal of run summaries, so listing 10,000 runs reads one file instead of 10,000
 * run.json files. The run folders stay the source of truth; the index is a cache of them that any process may
 * rebuild, and every read checks it against the folder names. Pure: no vscode, no Docker.
 *
 * Format: one JSON object per line, `{"v":1,"run":<summary>,"f":"<stamp>"}` or `{"v":1,"deleted":"<id>"}`; the last
 * line of an id wins. The stamp (inode, size, mtime of the run.json the summary was made from) lets a listing
 * trust an ended run's summary after a stat instead of a read, and notice a run.json replaced or damaged behind
 * its back. Several processes (editor windows, the CLI) append to it at once, so each append is a single write to
 * a file opened with O_APPEND: lines never interleave. Compaction replaces the file with one line per live run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomicFile';
import { tryWithFileLock } from '../common/fileLock';
import { UnreadableRunError } from './recordCheck';
import { RunRecord, isTerminal } from './run';

export const INDEX_FILE = 'index.jsonl';
const INDEX_VERSION = 1;

/** Record fields a run list, tree, filter or tooltip shows; the heavy ones (snapshot, environment details…) stay in run.json. */
const RECORD_FIELDS = ['startedAt', 'endedAt', 'exitCode', 'reason', 'imageId', 'options', 'parentId', 'name', 'labels', 'starred', 'metrics', 'params', 'tags'] as const;

/**
 * A run record without its heavy fields. Fields taken from the record keep its names and values, so code
 * reading a record's status or options.configName reads a summary the same way (and `mlw runs list --json`
 * keeps its shape); a few nested values are lifted to the top for lists and filters.
 */
export interface RunSummary extends Pick<RunRecord, 'id' | 'script' | 'args' | 'status' | 'createdAt' | (typeof RECORD_FIELDS)[number]> {
  /** options.configName. */
  configName?: string;
  /** The image the run used: environment.imageTag, else the image its options asked for. */
  image?: string;
  /** git.commit, git.branch, git.dirty. */
  commit?: string;
  branch?: string;
  dirty?: boolean;
}

export function summarize(run: RunRecord): RunSummary {
  const s: RunSummary = { id: run.id, script: run.script, args: run.args, status: run.status, createdAt: run.createdAt };
  const lifted: Partial<RunSummary> = {
    configName: run.options?.configName,
    image: run.environment?.imageTag ?? run.options?.image,
    commit: run.git?.commit,
    branch: run.git?.branch,
    dirty: run.git?.dirty,
  };
  // Absent rather than undefined, so a summary read back from the journal is deep-equal to a fresh one.
  const fields = s as unknown as Record<string, unknown>;
  for (const key of RECORD_FIELDS) if (run[key] !== undefined) fields[key] = run[key];
  for (const [key, value] of Object.entries(lifted)) if (value !== undefined) fields[key] = value;
  return s;
}

/** What tells one version of a run.json from another without reading it (see the file comment). */
export type FileStamp = string;

export function fileStamp(st: { ino: number; size: number; mtimeMs: number }): FileStamp {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** The summary listed for a run whose record cannot be used (status Unreadable): the reason, and what could be salvaged. */
function unreadableSummary(id: string, err: Error): RunSummary {
  const salvaged = err instanceof UnreadableRunError ? err.salvaged : {};
  const stamp = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(id);
  const createdAt = salvaged.createdAt ?? (stamp ? `${stamp[1]}-${stamp[2]}-${stamp[3]}T${stamp[4]}:${stamp[5]}:${stamp[6]}.000Z` : '');
  const reason = err instanceof UnreadableRunError ? err.reason : `its run.json cannot be read (${err.message})`;
  return { id, script: salvaged.script ?? '', args: [], status: 'Unreadable', createdAt, reason };
}

/** Newest first. Ids sort by second only; createdAt (milliseconds) orders runs started within the same second. */
export function newestFirst(a: Pick<RunSummary, 'id' | 'createdAt'>, b: Pick<RunSummary, 'id' | 'createdAt'>): number {
  return a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt);
}

/** Compaction waits for this many lines, so a store of a few runs is not rewritten every few writes. */
const COMPACT_MIN_LINES = 1000;
/** …and for this many lines per live run: each run writes ~10 updates, so the journal is rewritten every few runs' worth. */
const COMPACT_LINES_PER_RUN = 2;
/** A compaction lock older than this was left by a process that died while compacting. */
const STALE_LOCK_MS = 60_000;
/** Run files read at once when many are missing from the index (a rebuild): enough to keep the disk busy. */
const READ_CONCURRENCY = 32;
const RUN_ID = /^[\w.-]+$/;
const NEWLINE = 0x0a;
const TAIL_CHECK_BYTES = 256;

/** A journaled summary, with the stamp of the run.json it was made from (absent in lines of older versions). */
interface Indexed {
  run: RunSummary;
  stamp?: FileStamp;
}

type Entry = { id: string; indexed?: Indexed } | 'foreign' | undefined;

/** One journal line; 'foreign' for a line of another index version (left alone), undefined when malformed. */
function parseEntry(line: string): Entry {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null) return undefined;
  const e = o as { v?: unknown; run?: Partial<RunSummary>; f?: unknown; deleted?: unknown };
  if (typeof e.v === 'number' && e.v !== INDEX_VERSION) return 'foreign';
  if (e.v !== INDEX_VERSION) return undefined;
  if (typeof e.deleted === 'string') return RUN_ID.test(e.deleted) ? { id: e.deleted } : undefined;
  const r = e.run;
  if (typeof r !== 'object' || r === null) return undefined;
  const valid =
    typeof r.id === 'string' && RUN_ID.test(r.id) && typeof r.script === 'string' && Array.isArray(r.args) && typeof r.status === 'string' && typeof r.createdAt === 'string';
  if (!valid) return undefined;
  return { id: r.id!, indexed: { run: r as RunSummary, ...(typeof e.f === 'string' ? { stamp: e.f } : {}) } };
}

function runLine(e: Indexed): string {
  return JSON.stringify({ v: INDEX_VERSION, run: e.run, ...(e.stamp ? { f: e.stamp } : {}) });
}

/** What has been read of one journal file (identified by device and inode, as compaction replaces the file). */
interface Journal {
  dev: number;
  ino: number;
  /** Bytes read so far, up to the last complete line. */
  offset: number;
  runs: Map<string, Indexed>;
  /** Non-empty complete lines, including malformed and deleted ones: what compaction would save. */
  lines: number;
  malformed: number;
  /** The last bytes before offset, to recognise the same file (see read). */
  tail: Buffer;
}

/**
 * What this process has read of each index file, shared by every RunIndex of that file in this process (the
 * extension has one store per folder, but the CLI, tests and benchmarks may make more): a refresh reads only what
 * was appended since, and listings of one file take turns.
 */
const readers = new Map<string, { journal?: Journal; chain: Promise<unknown> }>();

/** How the index reaches the run folders it caches (RunStore owns their layout). */
export interface RunSource {
  /** A run's full record and its file's stamp; undefined when it has no run.json, throws when it is unreadable. */
  read(id: string): Promise<{ record: RunRecord; stamp: FileStamp } | undefined>;
  recordFile(id: string): string;
}

export class RunIndex {
  readonly file: string;
  private readonly reader: { journal?: Journal; chain: Promise<unknown> };

  constructor(
    readonly runsDir: string,
    private readonly source: RunSource,
  ) {
    this.file = path.join(path.dirname(runsDir), INDEX_FILE);
    let reader = readers.get(this.file);
    if (!reader) readers.set(this.file, (reader = { chain: Promise.resolve() }));
    this.reader = reader;
  }

  /** Journals the record's current summary (after its run.json was written, as the file `stamp` says). */
  record(run: RunRecord, stamp: FileStamp): Promise<void> {
    return this.journalOrDrop([runLine({ run: summarize(run), stamp })]);
  }

  /** Journals that a run was deleted (after its folder was removed). */
  forget(id: string): Promise<void> {
    return this.journalOrDrop([JSON.stringify({ v: INDEX_VERSION, deleted: id })]);
  }

  /**
   * A write of the run itself must not fail for its cache (an index.jsonl left read-only by `sudo mlw`, a full
   * disk), but the index must not stay wrong either: a line that cannot be written takes the index with it,
   * and the next listing rebuilds it from the run folders.
   */
  private async journalOrDrop(lines: string[]): Promise<void> {
    try {
      await this.appendRaw(Buffer.from(lines.join('\n')));
    } catch {
      await fs.promises.rm(this.file, { force: true }).catch(() => undefined);
    }
  }

  /**
   * Summaries of every run folder with a run.json, newest first. Folders missing from the index are read and
   * journaled, entries whose folder is gone are dropped, runs the index shows as not yet ended are re-read
   * (their process may have died between writing run.json and journaling it, or journaled out of order with
   * another process), and ended runs whose run.json is no longer the file the summary was made from are re-read.
   * A run.json that cannot be used is listed as Unreadable with the reason (never journaled, so it is checked
   * again each time), and reported through onError. The returned objects are shared with later calls: treat them
   * as read-only.
   */
  list(onError?: (id: string, err: Error) => void): Promise<RunSummary[]> {
    const next = this.reader.chain.then(() => this.listNow(onError));
    this.reader.chain = next.catch(() => undefined);
    return next;
  }

  private async listNow(onError?: (id: string, err: Error) => void): Promise<RunSummary[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.runsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const handle = await openJournal(this.file);
    try {
      const journal = handle ? await this.read(handle) : emptyJournal();
      const folders = new Set(names.filter((id) => !id.startsWith('.')));
      const live = new Map<string, Indexed>();
      const toCheck: [string, Indexed][] = [];
      const toRead: string[] = [];
      // In journal order, which is about creation order, so the sort below has little left to do.
      for (const [id, e] of journal.runs) {
        if (!folders.delete(id)) continue; // its folder is gone
        if (isTerminal(e.run.status) && e.stamp) toCheck.push([id, e]);
        else toRead.push(id);
      }
      for (const id of folders) toRead.push(id); // not in the index yet
      // An ended run's summary stands while its run.json is still the file it was made from: a stat, not a read.
      const stats = await statAll(toCheck.map(([id]) => this.source.recordFile(id)));
      toCheck.forEach(([id, e], i) => {
        const st = stats[i];
        if (st && fileStamp(st) === e.stamp) live.set(id, e);
        else toRead.push(id);
      });
      const changed: Indexed[] = [];
      const unreadable: RunSummary[] = [];
      await forEachLimit(toRead, READ_CONCURRENCY, async (id) => {
        let read: { record: RunRecord; stamp: FileStamp } | undefined;
        try {
          read = await this.source.read(id);
        } catch (err) {
          unreadable.push(unreadableSummary(id, err as Error));
          onError?.(id, err as Error);
          return;
        }
        if (!read) return; // being created (no run.json yet), or not a run folder
        const e: Indexed = { run: summarize(read.record), stamp: read.stamp };
        const known = journal.runs.get(id);
        if (known && known.stamp === e.stamp && JSON.stringify(known.run) === JSON.stringify(e.run)) {
          live.set(id, known);
        } else {
          live.set(id, e);
          changed.push(e);
        }
      });
      const entries = [...live.values()].sort((x, y) => newestFirst(x.run, y.run));
      // The listing is right whether or not it can be saved (a read-only workspace, a full disk).
      if (handle) await this.save(handle, journal, entries, changed).catch(() => undefined);
      const summaries = entries.map((e) => e.run);
      return unreadable.length ? [...summaries, ...unreadable].sort(newestFirst) : summaries;
    } finally {
      await handle?.close();
    }
  }

  /** Brings the journal read so far up to date with the file's content (all of it if the file was replaced). */
  private async read(handle: fs.promises.FileHandle): Promise<Journal> {
    const st = await handle.stat();
    let j = this.reader.journal;
    this.reader.journal = undefined; // until it is consistent again
    let bytes = j && j.dev === st.dev && j.ino === st.ino ? await readAfter(handle, j, st.size) : undefined;
    if (!j || bytes === undefined) {
      j = { ...emptyJournal(), dev: st.dev, ino: st.ino };
      bytes = await readRange(handle, 0, st.size);
    }
    // A last line without its newline is still being written, or was torn by a crash: not an entry (yet).
    const end = bytes.lastIndexOf(NEWLINE) + 1;
    // Splitting at newline bytes is safe in UTF-8: 0x0a never occurs inside a multi-byte character.
    for (const line of bytes.toString('utf8', 0, end).split('\n')) {
      if (!line.trim()) continue;
      j.lines++;
      const entry = parseEntry(line);
      if (entry === 'foreign') continue;
      if (!entry) j.malformed++;
      else if (entry.indexed) j.runs.set(entry.id, entry.indexed);
      else j.runs.delete(entry.id);
    }
    if (end > 0) {
      j.offset += end;
      const read = end >= TAIL_CHECK_BYTES ? bytes.subarray(0, end) : Buffer.concat([j.tail, bytes.subarray(0, end)]);
      j.tail = Buffer.from(read.subarray(Math.max(0, read.length - TAIL_CHECK_BYTES)));
    }
    this.reader.journal = j;
    return j;
  }

  /** Journals what changed, or rewrites the whole journal when it is mostly superseded lines or has damage. */
  private async save(handle: fs.promises.FileHandle, journal: Journal, entries: Indexed[], changed: Indexed[]): Promise<void> {
    const lines = journal.lines + changed.length;
    const bloated = lines > COMPACT_MIN_LINES && lines > COMPACT_LINES_PER_RUN * entries.length;
    if ((bloated || journal.malformed > 0) && (await this.compact(handle, journal.offset, entries))) return;
    if (changed.length) await this.appendRaw(Buffer.from(changed.map(runLine).join('\n')));
  }

  /**
   * Replaces the journal with one line per live run. Lines other processes append meanwhile must survive: an
   * append that reached the old file before the check below is copied over here; one that reached it after the
   * rename is re-appended by its writer (see appendRaw), so none is lost. One compaction at a time, by lock
   * file: two would each replace the file, and the second would drop lines appended to the first's.
   */
  private async compact(handle: fs.promises.FileHandle, readUpTo: number, entries: Indexed[]): Promise<boolean> {
    const outcome = await tryWithFileLock(`${this.file}.lock`, async () => {
      try {
        // Another process compacted after we read: our view of the old file is no longer the file.
        if (!sameFile(await handle.stat(), await fs.promises.stat(this.file).catch(() => undefined))) return false;
        await writeFileAtomic(this.file, entries.map((e) => runLine(e) + '\n').join(''));
        const { size } = await handle.stat();
        if (size > readUpTo) await this.appendRaw(await readRange(handle, readUpTo, size));
        return true;
      } finally {
        this.reader.journal = undefined;
      }
    }, { staleMs: STALE_LOCK_MS });
    return outcome.ran && outcome.value;
  }

  /**
   * Appends complete lines with one write(2) (O_APPEND: on a local filesystem the kernel puts each write whole at the end, so lines
   * of concurrent writers never interleave). The leading newline ends a line torn by a writer that was killed
   * mid-write, so these lines are not glued to it. If a compaction replaced the file while we wrote, they may
   * have gone to the old file after the compactor copied its tail: write them again to the new one.
   */
  private async appendRaw(lines: Buffer): Promise<void> {
    const data = Buffer.concat([Buffer.from('\n'), lines, Buffer.from('\n')]);
    for (let attempt = 0; attempt < 5; attempt++) {
      const handle = await fs.promises.open(this.file, 'a');
      try {
        for (let done = 0; done < data.length; ) done += (await handle.write(data, done)).bytesWritten;
        if (sameFile(await handle.stat(), await fs.promises.stat(this.file).catch(() => undefined))) return;
      } finally {
        await handle.close();
      }
    }
    throw new Error(`${this.file} was replaced during each of 5 appends`);
  }
}

function emptyJournal(): Journal {
  return { dev: 0, ino: 0, offset: 0, runs: new Map(), lines: 0, malformed: 0, tail: Buffer.alloc(0) };
}

/**
 * The bytes appended after what the journal has read, or undefined when the file is no longer what it read:
 * inode numbers are reused, so after two compactions elsewhere the file may have our old inode and other
 * content. The last bytes we read must still be where we read them.
 */
async function readAfter(handle: fs.promises.FileHandle, j: Journal, size: number): Promise<Buffer | undefined> {
  if (size < j.offset) return undefined;
  const bytes = await readRange(handle, j.offset - j.tail.length, size);
  return bytes.subarray(0, j.tail.length).equals(j.tail) ? bytes.subarray(j.tail.length) : undefined;
}

function sameFile(a: fs.Stats, b: fs.Stats | undefined): boolean {
  return b !== undefined && a.ino === b.ino && a.dev === b.dev;
}

/** The journal, created when missing (so a rebuild and its compaction work on a file); read-only when it must be. */
async function openJournal(file: string): Promise<fs.promises.FileHandle | undefined> {
  try {
    return await fs.promises.open(file, 'a+');
  } catch {
    return fs.promises.open(file, 'r').catch(() => undefined);
  }
}

async function readRange(handle: fs.promises.FileHandle, from: number, to: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(to - from);
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, from + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

/** Files statAll stats between two yields to the event loop: a few milliseconds of work. */
const STAT_CHUNK = 500;

/**
 * The stats of many files (undefined for one that cannot be stat-ed). Synchronous calls, in chunks with a
 * yield to the event loop between them: for 10,000 files that is about 3× faster than fs.stat through the
 * thread pool (60 against 200 ms on a loaded 2-core VM), and never holds the loop for more than a few ms.
 */
async function statAll(files: readonly string[]): Promise<(fs.Stats | undefined)[]> {
  const out: (fs.Stats | undefined)[] = [];
  for (let i = 0; i < files.length; i++) {
    if (i > 0 && i % STAT_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
    try {
      out.push(fs.statSync(files[i], { throwIfNoEntry: false }));
    } catch {
      out.push(undefined); // unreadable folder: the read that follows reports why
    }
  }
  return out;
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
