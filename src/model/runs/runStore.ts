import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDirIfExists, writeJsonAtomic } from '../common/atomicFile';
import { UserFacingError } from '../common/errors';
import { withFileLock } from '../common/fileLock';
import { ensureMlwGitignore } from '../common/mlwGitignore';
import { parseRunRecord } from './recordCheck';
import { RUN_SCHEMA_VERSION, RunRecord, isTerminal } from './run';
import { FileStamp, RunIndex, RunSummary, fileStamp, newestFirst } from './runIndex';


export interface RunPaths {
  dir: string;
  record: string;
  snapshot: string;
  outputs: string;
  logs: string;
  buildLog: string;
  environment: string;
  /** Written by the script through the `mlw` Python module (events.jsonl). */
  tracking: string;
}

/**
 * The on-disk store of runs under `<workspace>/.mlw/runs/<id>/`. One owner of the layout; everything else
 * asks it for paths. Every write also journals the run's summary in `.mlw/index.jsonl` (see runIndex.ts), so
 * lists need not read every run.json. Emits 'changed' (run record) after every write and 'deleted' (run id)
 * after a delete, so views can follow.
 */
export class RunStore extends EventEmitter {
  readonly runsDir: string;
  private readonly index: RunIndex;
  /** Per-run chain of pending updates, so two read-modify-writes in this process never lose each other's fields. */
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(readonly workspaceRoot: string) {
    super();
    this.runsDir = path.join(workspaceRoot, '.mlw', 'runs');
    // recordFile is paths(id).record without its 8 path.join calls: a listing stats every run.json with it.
    const recordFile = (id: string) => `${this.runsDir}${path.sep}${id}${path.sep}run.json`;
    this.index = new RunIndex(this.runsDir, { read: (id) => this.read(id), recordFile });
  }

  paths(id: string): RunPaths {
    if (!/^[\w.-]+$/.test(id)) throw new Error(`Invalid run id "${id}"`);
    const dir = path.join(this.runsDir, id);
    return {
      dir,
      record: path.join(dir, 'run.json'),
      snapshot: path.join(dir, 'snapshot'),
      outputs: path.join(dir, 'outputs'),
      logs: path.join(dir, 'logs.txt'),
      buildLog: path.join(dir, 'build.txt'),
      environment: path.join(dir, 'environment'),
      tracking: path.join(dir, 'tracking'),
    };
  }

  async create(record: RunRecord): Promise<RunRecord> {
    const p = this.paths(record.id);
    await ensureMlwGitignore(this.workspaceRoot);
    await fs.promises.mkdir(this.runsDir, { recursive: true });
    const taken = () => new Error(`Run ${record.id} exists already in ${this.runsDir}; not overwriting it`);
    if (await fs.promises.lstat(p.dir).then(() => true, () => false)) throw taken();
    // Built aside (a dot name, which listings skip) and renamed into place: a process killed at any moment leaves
    // either no run folder or one holding its run.json, never a run folder without a record.
    const staging = path.join(this.runsDir, `.creating-${record.id}-${process.pid}`);
    try {
      await fs.promises.mkdir(path.join(staging, 'outputs'), { recursive: true });
      const written = await writeJsonAtomic(path.join(staging, 'run.json'), record);
      // A folder of the same id that appeared meanwhile holds a run.json: rename refuses a non-empty target.
      await fs.promises.rename(staging, p.dir).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOTEMPTY' || err.code === 'EEXIST' ? taken() : err;
      });
      await this.index.record(record, fileStamp(written));
    } finally {
      await fs.promises.rm(staging, { recursive: true, force: true });
    }
    this.emit('changed', record);
    return record;
  }

  /**
   * The run's record; undefined when it has none (yet). A run.json that is not JSON, has the wrong shape or a
   * newer schema throws UnreadableRunError with the reason (see recordCheck.ts).
   */
  async get(id: string): Promise<RunRecord | undefined> {
    return (await this.read(id))?.record;
  }

  /** The record with the stamp of the file it was read from, for the index to tell later whether it changed. */
  private async read(id: string): Promise<{ record: RunRecord; stamp: FileStamp } | undefined> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.paths(id).record, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      // Stamp first, from the same open file: a change after it makes the stamp stale, so it is read again.
      const stamp = fileStamp(await handle.stat());
      return { record: parseRunRecord(await handle.readFile('utf8'), id), stamp };
    } finally {
      await handle.close();
    }
  }

  /** Applies a patch to the stored record and writes it back atomically. */
  update(id: string, patch: Partial<RunRecord>): Promise<RunRecord> {
    const previous = this.pending.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.applyPatch(id, patch));
    this.pending.set(id, next);
    void next.finally(() => {
      if (this.pending.get(id) === next) this.pending.delete(id);
    }).catch(() => undefined);
    return next;
  }

  /**
   * Read-modify-write under the run's lock file, so another process (the CLI following a run while the editor
   * stars it) never overwrites fields this one wrote between its read and its write.
   */
  private async applyPatch(id: string, patch: Partial<RunRecord>): Promise<RunRecord> {
    const p = this.paths(id);
    if (!fs.existsSync(p.dir)) throw new Error(`Run ${id} does not exist in ${this.runsDir}`);
    return withFileLock(`${p.record}.lock`, async () => {
      const current = await this.get(id);
      if (!current) throw new Error(`Run ${id} does not exist in ${this.runsDir}`);
      const next: RunRecord = { ...current, ...patch, id: current.id, schemaVersion: RUN_SCHEMA_VERSION };
      await this.write(next);
      return next;
    });
  }

  /** Every readable run, newest first. An unreadable record is reported through onError and skipped, never fatal. */
  async list(onError?: (id: string, err: Error) => void): Promise<RunRecord[]> {
    const ids = await readDirIfExists(this.runsDir);
    const records: RunRecord[] = [];
    for (const id of ids) {
      if (id.startsWith('.')) continue;
      try {
        const r = await this.get(id);
        if (r) records.push(r);
      } catch (err) {
        onError?.(id, err as Error);
      }
    }
    return records.sort(newestFirst);
  }

  /**
   * Summaries of every run, newest first, from the index (rebuilt or brought up to date from the run folders as
   * needed): what a list or tree shows, without reading every run.json. A run whose run.json cannot be used is
   * listed with status Unreadable and the reason (and reported through onError). The objects are shared with
   * later calls: do not modify them.
   */
  listSummaries(onError?: (id: string, err: Error) => void): Promise<RunSummary[]> {
    return this.index.list(onError);
  }

  /**
   * Removes a run's folder (record, snapshot, logs, outputs) and its index entry. A run still queued or
   * running is refused: its runner would recreate the folder with its next write.
   */
  async delete(id: string): Promise<void> {
    // A damaged record does not stop its run from being deleted.
    const run = await this.get(id).catch(() => undefined);
    if (run && !isTerminal(run.status)) throw new UserFacingError(`Run ${id} is ${run.status}; cancel it before deleting it.`);
    await fs.promises.rm(this.paths(id).dir, { recursive: true, force: true });
    await this.index.forget(id);
    this.emit('deleted', id);
  }

  /** Resolves a full id or a unique prefix of one (as users type short ids). */
  async resolveId(idOrPrefix: string): Promise<string> {
    const all = (await readDirIfExists(this.runsDir)).filter((name) => !name.startsWith('.'));
    if (all.includes(idOrPrefix)) return idOrPrefix;
    const matches = all.filter((id) => id.startsWith(idOrPrefix) || id.endsWith(idOrPrefix));
    if (matches.length === 1) return matches[0];
    if (matches.length === 0) throw new Error(`No run matches "${idOrPrefix}" in ${this.runsDir}`);
    throw new Error(`"${idOrPrefix}" matches ${matches.length} runs (${matches.slice(0, 3).join(', ')}…); give more of the id`);
  }

  /**
   * `.mlw/.gitignore` keeps run data out of `git status` (and out of the dirty flag of later runs) without
   * touching the user's own .gitignore, while run configurations and .mlw/Dockerfile stay shareable.
   */
  private async write(record: RunRecord): Promise<void> {
    const written = await writeJsonAtomic(this.paths(record.id).record, record);
    // After run.json, which stays the truth: a process killed in between leaves the index behind, not ahead.
    await this.index.record(record, fileStamp(written));
    this.emit('changed', record);
  }
}
