import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDirIfExists, readJsonIfExists, readTextIfExists, writeJsonAtomic } from '../common/atomicFile';
import { isInsideFolder } from '../common/containment';
import { UserFacingError } from '../common/errors';
import { withFileLock } from '../common/fileLock';
import { ensureMlwGitignore } from '../common/mlwGitignore';
import { RunStore } from '../runs/runStore';
import { ContentStore, StoredFile, contentHashOf, listModelFiles } from './contentStore';
import { MODEL_SCHEMA_VERSION, ModelRef, ModelSource, ModelVersion, checkAlias, checkModelName, formatModelRef, parseModelRef, parseModelVersion } from './modelVersion';

export interface RegisterOptions {
  name: string;
  description?: string;
  tags?: Record<string, string>;
  /** A scoring script (init()/run()) anywhere on disk; stored with the version. */
  scoreFile?: string;
}

/** Which deployments serve a version (the deployment layer answers); a version that is served is not deleted. */
export type DeploymentsOf = (name: string, version: number) => Promise<string[]>;

export interface ModelSummary {
  name: string;
  /** Newest first. */
  versions: ModelVersion[];
  aliases: Record<string, number>;
}

const VERSION_FILE = /^v(\d+)\.json$/;
const PRUNE_GRACE_MS = 10 * 60_000;

/**
 * The model registry of one workspace: `.mlw/models/<name>/v<N>.json` per version and `aliases.json` per model
 * (text a team commits), with the model files by content in `.mlw/model-store/` (which git ignores). Versions
 * are numbered under a lock per model, so two processes registering at once get two numbers, never one.
 */
export class ModelRegistry extends EventEmitter {
  readonly modelsDir: string;
  readonly content: ContentStore;
  private readonly locksDir: string;

  constructor(readonly workspaceRoot: string, private readonly runs: RunStore = new RunStore(workspaceRoot)) {
    super();
    this.modelsDir = path.join(workspaceRoot, '.mlw', 'models');
    const storeRoot = path.join(workspaceRoot, '.mlw', 'model-store');
    this.content = new ContentStore(storeRoot);
    this.locksDir = path.join(storeRoot, 'locks');
  }

  /** Registers a file or folder of a run's outputs, written as the script saw it (`outputs/m.joblib`) or outputs-relative. */
  async registerFromRun(runIdOrPrefix: string, outputPath: string, options: RegisterOptions): Promise<ModelVersion> {
    const runId = await this.runs.resolveId(runIdOrPrefix);
    const run = await this.runs.get(runId);
    if (!run) throw new UserFacingError(`Run ${runId} has no record`);
    if (run.status !== 'Completed') {
      throw new UserFacingError(`Run ${runId} is ${run.status}; register a model from a run that completed (rerun it, or register the file with --file)`);
    }
    const outputs = this.runs.paths(runId).outputs;
    const rel = outputPath.replace(/\\/g, '/').replace(/^\.\//, '').replace(/^outputs(\/|$)/, '').replace(/\/+$/, '');
    const source = path.resolve(outputs, rel || '.');
    if (source !== outputs && !isInsideFolder(outputs, source)) {
      throw new UserFacingError(`${outputPath} is not inside run ${runId}'s outputs; name a file or folder the script wrote under outputs/`);
    }
    const shown = `outputs/${rel}`.replace(/\/$/, '');
    const files = await listModelFiles(source, shown, ` of run ${runId}`).catch((err: Error) => {
      if (/does not exist/.test(err.message)) {
        throw new UserFacingError(`${shown} does not exist in run ${runId}'s outputs${run.artifacts?.length ? `; it has ${run.artifacts.slice(0, 5).join(', ')}` : ''}`);
      }
      throw err;
    });
    const env = run.environment;
    return this.register(files, options, {
      kind: 'run',
      runId,
      path: rel || '.',
      script: run.script,
      args: run.args,
      commit: run.git?.commit,
      branch: run.git?.branch,
      dirty: run.git?.dirty,
      params: run.params ?? {},
      metrics: run.metrics ?? {},
      image: env ? { tag: env.imageTag, id: env.imageId } : run.imageId ? { tag: run.imageId, id: run.imageId } : undefined,
    });
  }

  /** Registers any file or folder (of the workspace, usually); its lineage is its path. */
  async registerFile(file: string, options: RegisterOptions): Promise<ModelVersion> {
    const abs = path.resolve(file);
    const shown = isInsideFolder(this.workspaceRoot, abs) ? path.relative(this.workspaceRoot, abs).split(path.sep).join('/') : abs;
    const files = await listModelFiles(abs, shown);
    return this.register(files, options, { kind: 'file', path: shown });
  }

  private async register(files: { file: string; rel: string }[], options: RegisterOptions, source: ModelSource): Promise<ModelVersion> {
    const name = checkModelName(options.name);
    await ensureMlwGitignore(this.workspaceRoot);
    const stored: StoredFile[] = [];
    for (const f of files) stored.push(await this.content.put(f.file, f.rel));
    let score: StoredFile | undefined;
    if (options.scoreFile) {
      const st = await fs.promises.lstat(options.scoreFile).catch(() => undefined);
      if (!st?.isFile()) throw new UserFacingError(`The scoring script ${options.scoreFile} is not a file`);
      score = await this.content.put(options.scoreFile, path.basename(options.scoreFile));
    }
    const version = await this.withModelLock(name, async () => {
      const dir = path.join(this.modelsDir, name);
      await fs.promises.mkdir(dir, { recursive: true });
      // Numbers are never given twice: after a delete of the newest version, the next still counts on from it.
      const counter = path.join(dir, 'model.json');
      const last = (await readJsonIfExists<{ lastVersion?: number }>(counter))?.lastVersion ?? 0;
      const next = Math.max(last, ...(await this.versionNumbers(name))) + 1;
      const record: ModelVersion = {
        schemaVersion: MODEL_SCHEMA_VERSION,
        name,
        version: next,
        createdAt: new Date().toISOString(),
        ...(options.description ? { description: options.description } : {}),
        tags: options.tags ?? {},
        files: stored,
        contentHash: contentHashOf(stored),
        ...(score ? { score } : {}),
        source,
      };
      await writeJsonAtomic(path.join(dir, `v${next}.json`), record);
      await writeJsonAtomic(counter, { lastVersion: next });
      return record;
    });
    this.emit('changed', name);
    return version;
  }

  private withModelLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return fs.promises.mkdir(this.locksDir, { recursive: true }).then(() => withFileLock(path.join(this.locksDir, `${name}.lock`), fn));
  }

  private async versionNumbers(name: string): Promise<number[]> {
    return (await readDirIfExists(path.join(this.modelsDir, name)))
      .map((f) => VERSION_FILE.exec(f)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number);
  }

  async modelNames(): Promise<string[]> {
    const names: string[] = [];
    for (const n of (await readDirIfExists(this.modelsDir)).sort()) {
      if ((await this.versionNumbers(n)).length) names.push(n);
    }
    return names;
  }

  async version(name: string, version: number): Promise<ModelVersion | undefined> {
    const file = path.join(this.modelsDir, checkModelName(name), `v${version}.json`);
    const text = await readTextIfExists(file);
    return text === undefined ? undefined : parseModelVersion(text, path.relative(this.workspaceRoot, file));
  }

  /** Every version of a model, newest first. */
  async versions(name: string): Promise<ModelVersion[]> {
    const nums = (await this.versionNumbers(checkModelName(name))).sort((a, b) => b - a);
    const out: ModelVersion[] = [];
    for (const n of nums) {
      const v = await this.version(name, n);
      if (v) out.push(v);
    }
    return out;
  }

  async aliases(name: string): Promise<Record<string, number>> {
    return (await readJsonIfExists<Record<string, number>>(path.join(this.modelsDir, checkModelName(name), 'aliases.json'))) ?? {};
  }

  async list(): Promise<ModelSummary[]> {
    const out: ModelSummary[] = [];
    for (const name of await this.modelNames()) out.push({ name, versions: await this.versions(name), aliases: await this.aliases(name) });
    return out;
  }

  /** The version a reference names; a message listing what exists when it names none. */
  async resolve(ref: string | ModelRef): Promise<ModelVersion> {
    const r = typeof ref === 'string' ? parseModelRef(ref) : ref;
    const nums = await this.versionNumbers(r.name);
    if (!nums.length) {
      const known = await this.modelNames();
      throw new UserFacingError(`No model named "${r.name}"${known.length ? `; models: ${known.join(', ')}` : '; register one first (mlw model register)'}`);
    }
    let n = r.version;
    if (r.alias) {
      const aliases = await this.aliases(r.name);
      n = aliases[r.alias];
      if (n === undefined) {
        const set = Object.entries(aliases).map(([a, v]) => `${a} → ${v}`);
        throw new UserFacingError(`Model "${r.name}" has no alias "${r.alias}"${set.length ? ` (it has ${set.join(', ')})` : ''}; set it with mlw model alias ${r.name}:VERSION ${r.alias}`);
      }
    }
    n ??= Math.max(...nums);
    const v = await this.version(r.name, n);
    if (!v) throw new UserFacingError(`Model "${r.name}" has no version ${n}; its versions: ${nums.sort((a, b) => a - b).join(', ')}`);
    return v;
  }

  /** Points `alias` at one version of the model (moving it from another version when it was set). */
  async setAlias(name: string, version: number, alias: string): Promise<Record<string, number>> {
    checkAlias(alias);
    await this.resolve({ name, version });
    const aliases = await this.withModelLock(name, async () => {
      const file = path.join(this.modelsDir, name, 'aliases.json');
      const current = (await readJsonIfExists<Record<string, number>>(file)) ?? {};
      const next = { ...current, [alias]: version };
      await writeJsonAtomic(file, Object.fromEntries(Object.entries(next).sort(([a], [b]) => (a < b ? -1 : 1))));
      return next;
    });
    this.emit('changed', name);
    return aliases;
  }

  async removeAlias(name: string, alias: string): Promise<void> {
    await this.withModelLock(name, async () => {
      const file = path.join(this.modelsDir, name, 'aliases.json');
      const current = (await readJsonIfExists<Record<string, number>>(file)) ?? {};
      delete current[alias];
      await writeJsonAtomic(file, current);
    });
    this.emit('changed', name);
  }

  /**
   * Deletes a version's record and its aliases; refused while a deployment serves it. Its file bytes stay in the
   * store while another version holds them; `prune` removes the rest.
   */
  async deleteVersion(name: string, version: number, deploymentsOf?: DeploymentsOf): Promise<void> {
    const v = await this.resolve({ name, version });
    const serving = deploymentsOf ? await deploymentsOf(name, version) : [];
    if (serving.length) {
      throw new UserFacingError(`${formatModelRef(v)} is deployed as ${serving.join(', ')}; delete or update ${serving.length > 1 ? 'those deployments' : 'that deployment'} first`);
    }
    await this.withModelLock(name, async () => {
      const dir = path.join(this.modelsDir, name);
      const aliasFile = path.join(dir, 'aliases.json');
      const aliases = (await readJsonIfExists<Record<string, number>>(aliasFile)) ?? {};
      const kept = Object.fromEntries(Object.entries(aliases).filter(([, n]) => n !== version));
      if (Object.keys(kept).length !== Object.keys(aliases).length) await writeJsonAtomic(aliasFile, kept);
      await fs.promises.rm(path.join(dir, `v${version}.json`), { force: true });
    });
    await this.prune();
    this.emit('changed', name);
  }

  /**
   * Removes stored bytes no version refers to any more. Bytes stored in the last `graceMs` are kept: another
   * process may have stored them for a version whose record it has not written yet.
   */
  async prune(graceMs = PRUNE_GRACE_MS): Promise<number> {
    const used = new Set<string>();
    for (const m of await this.list()) for (const v of m.versions) for (const f of [...v.files, ...(v.score ? [v.score] : [])]) used.add(f.sha256);
    let removed = 0;
    for (const prefix of await readDirIfExists(this.content.objectsDir)) {
      for (const h of await readDirIfExists(path.join(this.content.objectsDir, prefix))) {
        const file = path.join(this.content.objectsDir, prefix, h);
        const young = await fs.promises.stat(file).then((st) => Date.now() - st.mtimeMs < graceMs, () => true);
        if (!used.has(h) && !young) {
          await fs.promises.rm(path.join(this.content.objectsDir, prefix, h), { force: true });
          removed++;
        }
      }
    }
    return removed;
  }
}
