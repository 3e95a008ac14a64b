/**
 * Checks a run.json on read, so a record that is not JSON, has the wrong shape or a newer schema is reported
 * as unreadable with the reason, instead of crashing whatever reads a field of the wrong type later (a sort
 * on `createdAt: 42`) or being shown as a healthy run. Pure: no vscode, no Docker, no schema library.
 *
 * Only the types of the fields this version reads are checked: fields it does not know are kept as they are.
 */
import { UserFacingError } from '../common/errors';
import { RUN_SCHEMA_VERSION, RunRecord, RunStatus } from './run';

/** Unreadable is a listing's word for a broken record, never a stored status. */
const STATUSES: readonly RunStatus[] = ['Queued', 'Running', 'Completed', 'Failed', 'Canceled', 'Lost'];

/** A run whose run.json exists but cannot be used; `reason` says why, for a list to show. */
export class UnreadableRunError extends UserFacingError {
  constructor(
    readonly runId: string,
    readonly reason: string,
    /** What a list can still show of it: fields that passed their check. */
    readonly salvaged: { script?: string; createdAt?: string } = {},
  ) {
    super(`Run ${runId} cannot be read: ${reason}`);
    this.name = 'UnreadableRunError';
  }
}

type Check = (v: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString: Check = (v) => typeof v === 'string';
const isBoolean: Check = (v) => typeof v === 'boolean';
const isNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isInteger: Check = (v) => Number.isInteger(v);
const isTime: Check = (v) => typeof v === 'string' && Number.isFinite(Date.parse(v));
const isStrings: Check = (v) => Array.isArray(v) && v.every(isString);
const valuesAre = (check: Check): Check => (v) => isObject(v) && Object.values(v).every(check);
/** An object whose listed fields, when present, pass their checks. */
const shape = (fields: Record<string, Check>, required: string[] = []): Check => (v) =>
  isObject(v) && required.every((k) => v[k] !== undefined) && Object.entries(fields).every(([k, check]) => v[k] === undefined || check(v[k]));

/** What each field must be, with the words a reason uses for it. Required fields first. */
const FIELDS: [keyof RunRecord, Check, string][] = [
  ['id', isString, 'text'],
  ['script', isString, 'text'],
  ['args', isStrings, 'a list of text'],
  ['status', (v) => STATUSES.includes(v as RunStatus), `one of ${STATUSES.join(', ')}`],
  ['createdAt', isTime, 'a date and time (ISO 8601 text)'],
  ['startedAt', isTime, 'a date and time (ISO 8601 text)'],
  ['endedAt', isTime, 'a date and time (ISO 8601 text)'],
  ['exitCode', isInteger, 'a whole number'],
  ['reason', isString, 'text'],
  ['environment', shape({ kind: isString, imageTag: isString, imageId: isString, baseImage: isString, file: isString, built: isBoolean }, ['imageTag', 'imageId']), 'an environment with imageTag and imageId'],
  ['imageId', isString, 'text'],
  ['containerId', isString, 'text'],
  ['git', shape({ commit: isString, branch: isString, dirty: isBoolean, remote: isString, patch: isString, untracked: isStrings }, ['commit']), 'git lineage with a commit'],
  ['snapshot', shape({ files: isNumber, bytes: isNumber, hash: isString }), 'a snapshot summary (files, bytes)'],
  ['options', shape({ configName: isString, image: isString, env: valuesAre(isString), timeoutSeconds: isNumber, network: isString, resources: isObject }), 'run options'],
  ['limits', shape({ memoryBytes: isNumber, pids: isInteger, outputsBytes: isNumber, logsBytes: isNumber, trackingBytes: isNumber, defaulted: isStrings }, ['pids', 'outputsBytes', 'logsBytes', 'trackingBytes']), 'run limits (pids, outputsBytes, logsBytes, trackingBytes)'],
  ['parentId', isString, 'text'],
  ['owner', shape({ pid: isInteger, host: isString }, ['pid', 'host']), 'an owner (pid, host)'],
  ['cancelRequested', isBoolean, 'true or false'],
  // null: a metric the script logged as NaN or Infinity, which JSON cannot spell.
  ['metrics', valuesAre((v) => v === null || typeof v === 'number'), 'metric names with numbers'],
  ['params', isObject, 'param names with values'],
  ['tags', valuesAre(isString), 'tag names with text'],
  ['artifacts', isStrings, 'a list of text'],
  ['name', isString, 'text'],
  ['labels', isStrings, 'a list of text'],
  ['starred', isBoolean, 'true or false'],
];
const REQUIRED = new Set<keyof RunRecord>(['id', 'script', 'args', 'status', 'createdAt']);

/** A value as a reason quotes it: short, and never more than a line. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * The record in `text` (the content of run `id`'s run.json), or UnreadableRunError saying what is wrong with
 * it: not JSON (a truncated write, a hand edit), a newer schema, or a field of the wrong type.
 */
export function parseRunRecord(text: string, id: string): RunRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UnreadableRunError(id, `its run.json is not valid JSON (${text.trim() ? (err as Error).message : 'the file is empty'})`);
  }
  if (!isObject(value)) throw new UnreadableRunError(id, `its run.json holds ${quote(value)}, not a run record`);
  const record = value;
  const salvaged = {
    ...(isString(record.script) ? { script: record.script as string } : {}),
    ...(isTime(record.createdAt) ? { createdAt: record.createdAt as string } : {}),
  };
  const unreadable = (reason: string) => new UnreadableRunError(id, reason, salvaged);
  const version = record.schemaVersion;
  if (!isInteger(version) || (version as number) < 1) throw unreadable(`its run.json has schemaVersion ${quote(version)}, not a schema number`);
  if ((version as number) > RUN_SCHEMA_VERSION) {
    throw unreadable(`it was written by a newer ML Workbench (schema ${version as number}); update the extension or CLI to read it.`);
  }
  for (const [field, check, expected] of FIELDS) {
    const v = record[field];
    if (v === undefined) {
      if (REQUIRED.has(field)) throw unreadable(`its run.json has no ${field}`);
      continue;
    }
    if (!check(v)) throw unreadable(`its run.json has ${field} ${quote(v)}, not ${expected}`);
  }
  // A folder copied under another name would make every write land in the folder its record names.
  if (record.id !== id) throw unreadable(`its run.json is for run ${record.id as string}; a run folder must be named after its run`);
  return record as unknown as RunRecord;
}
