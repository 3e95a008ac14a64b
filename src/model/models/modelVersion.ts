import { UserFacingError } from '../common/errors';
import type { StoredFile } from './contentStore';

export const MODEL_SCHEMA_VERSION = 1;

/** Where a version's files came from: a run's outputs (with the run's lineage) or a file of the workspace. */
export type ModelSource =
  | {
      kind: 'run';
      runId: string;
      /** Relative to the run's outputs folder, forward slashes. */
      path: string;
      script: string;
      args: string[];
      commit?: string;
      branch?: string;
      dirty?: boolean;
      params: Record<string, unknown>;
      metrics: Record<string, number>;
      /** The run's environment image (tag and id): what a scoring image is built FROM. */
      image?: { tag: string; id: string };
    }
  | { kind: 'file'; path: string };

/** `.mlw/models/<name>/v<version>.json`: small, text, meant to be committed with the code. */
export interface ModelVersion {
  schemaVersion: number;
  name: string;
  version: number;
  createdAt: string;
  description?: string;
  tags: Record<string, string>;
  files: StoredFile[];
  /** Of the model files (paths and bytes), so equal models are recognised whatever their names. */
  contentHash: string;
  /** The scoring script (init()/run()), stored apart from the model files; absent: the built-in scorer. */
  score?: StoredFile;
  source: ModelSource;
}

/** What names a version: `NAME` (its newest), `NAME:VERSION` or `NAME@ALIAS`. */
export type ModelRef = { name: string; version?: number; alias?: string };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ALIAS = /^[a-z][a-z0-9_-]{0,31}$/;

export function checkModelName(name: string): string {
  if (!NAME.test(name)) {
    throw new UserFacingError(`"${name}" is not a valid model name: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  return name;
}

export function checkAlias(alias: string): string {
  if (!ALIAS.test(alias) || /^v?\d+$/.test(alias)) {
    throw new UserFacingError(`"${alias}" is not a valid alias: use lower-case letters, digits, "_" or "-", starting with a letter (e.g. production, staging)`);
  }
  return alias;
}

export function parseModelRef(text: string): ModelRef {
  const at = /^([^:@]+)@(.+)$/.exec(text);
  if (at) return { name: checkModelName(at[1]), alias: checkAlias(at[2]) };
  const colon = /^([^:@]+):(.+)$/.exec(text);
  if (colon) {
    const v = /^v?(\d+)$/.exec(colon[2]);
    if (!v || Number(v[1]) < 1) throw new UserFacingError(`"${colon[2]}" is not a version number in ${text}; write NAME:VERSION (e.g. ${colon[1]}:2) or NAME@ALIAS`);
    return { name: checkModelName(colon[1]), version: Number(v[1]) };
  }
  return { name: checkModelName(text) };
}

export function formatModelRef(v: Pick<ModelVersion, 'name' | 'version'>): string {
  return `${v.name}:${v.version}`;
}

/** A version file's content as a ModelVersion, or a message saying what is wrong with it. */
export function parseModelVersion(text: string, file: string): ModelVersion {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (err) {
    throw new UserFacingError(`${file} is not valid JSON (${(err as Error).message}); fix or delete it`);
  }
  const v = o as Partial<ModelVersion>;
  if (typeof o !== 'object' || o === null || typeof v.schemaVersion !== 'number') throw new UserFacingError(`${file} is not a model version record`);
  if (v.schemaVersion > MODEL_SCHEMA_VERSION) {
    throw new UserFacingError(`${file} was written by a newer ML Workbench (model schema ${v.schemaVersion}); update the extension to read it`);
  }
  if (typeof v.name !== 'string' || typeof v.version !== 'number' || !Array.isArray(v.files) || typeof v.source !== 'object' || v.source === null) {
    throw new UserFacingError(`${file} lacks its name, version, files or source`);
  }
  return { ...v, tags: v.tags ?? {} } as ModelVersion;
}

/** The metric a version is best known by: the run's metric named `preferred`, else its first. */
export function keyMetricOf(v: ModelVersion, preferred = ''): { name: string; value: number } | undefined {
  if (v.source.kind !== 'run') return undefined;
  const metrics = v.source.metrics;
  const name = preferred && preferred in metrics ? preferred : Object.keys(metrics)[0];
  return name === undefined ? undefined : { name, value: metrics[name] };
}
