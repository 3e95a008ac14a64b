/**
 * Named run configurations: `<workspace>/.mlw/runconfigs/<name>.yaml` (or `.yml`) say how a script runs
 * (arguments, environment, image, limits, timeout, network). Pure: files and YAML only, no vscode, no Docker.
 *
 * Validation is strict and precise on purpose: a config is hand-edited, and a typo that is silently ignored
 * (say `timout: 1h`) is worse than an error naming the file, the key and the fix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Document, LineCounter, Node, Pair, Scalar, YAMLMap, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { readTextIfExists, writeFileAtomic } from '../common/atomicFile';
import { UserFacingError } from '../common/errors';

export const RUNCONFIG_DIR = path.join('.mlw', 'runconfigs');

export interface RunConfig {
  /** File name without extension. */
  name: string;
  /** Absolute path of the file it came from ('' for the built-in default). */
  file: string;
  /** Forward slashes, workspace-relative; absent: the editor's script. */
  script?: string;
  args: string[];
  env: Record<string, string>;
  /** Use exactly this image (no environment build). */
  image?: string;
  target: 'local';
  /** gpus is never 0: "no GPUs" is always represented by its absence. */
  resources: { cpus?: number; memoryBytes?: number; gpus?: number | 'all' };
  timeoutSeconds?: number;
  network: 'none' | 'bridge';
}

/** `${file}: ${key}: ${reason}`. The position (1-based), when known, lets an editor point at the offending text. */
export class RunConfigError extends UserFacingError {
  constructor(
    readonly file: string,
    readonly key: string,
    readonly reason: string,
    readonly position?: { line: number; column: number },
  ) {
    super(`${file}: ${key}: ${reason}`);
    this.name = 'RunConfigError';
  }
}

const NAME_PATTERN = /^[A-Za-z0-9][\w.-]*$/;
const EXTENSIONS = ['.yaml', '.yml'];
const MIB = 1024 * 1024;
/** Docker refuses a memory limit below 6 MiB; failing here names the key instead of a daemon error. */
const MIN_MEMORY_BYTES = 6 * MIB;

const TOP_KEYS = ['script', 'args', 'env', 'image', 'target', 'resources', 'timeout', 'network'];
const RESOURCE_KEYS = ['cpus', 'memory', 'gpus'];

export function defaultRunConfig(): RunConfig {
  return { name: 'default', file: '', args: [], env: {}, target: 'local', resources: {}, network: 'bridge' };
}

/** Why a name cannot be a run configuration's name, or undefined when it can (usable as an input box validator). */
export function validateRunConfigName(name: string): string | undefined {
  if (EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext))) {
    return `Run configuration names leave out the extension: use "${name.replace(/\.ya?ml$/i, '')}"`;
  }
  if (!NAME_PATTERN.test(name)) {
    return `"${name}" is not a valid run configuration name: start with a letter or digit, then use letters, digits, ".", "_" or "-"`;
  }
  return undefined;
}

function checkName(name: string): void {
  const problem = validateRunConfigName(name);
  if (problem) throw new UserFacingError(problem);
}

/**
 * Parses and validates one config. `file` is only used in error messages (and as the result's `file`), so
 * callers pass whatever the user should read: loadRunConfig passes the workspace-relative path.
 */
export function parseRunConfig(name: string, file: string, text: string): RunConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const position = at(error.pos[0])!;
    // The library's advice for this one (parseAllDocuments) is about its API, not about the user's file.
    const reason =
      error.code === 'MULTIPLE_DOCS' ? 'a run configuration is a single YAML document; remove the second "---"' : error.message;
    throw new RunConfigError(file, `line ${position.line}, column ${position.column}`, reason, position);
  }
  // Annotated so TypeScript narrows after v.fail(), which never returns.
  const v: Validator = new Validator(file, doc, at);
  const config: RunConfig = { ...defaultRunConfig(), name, file };
  const root = v.resolve(doc.contents);
  if (isEmpty(root)) return config;
  if (!isMap(root)) v.fail('(top level)', `must be a mapping of settings like "script: train.py", not ${v.describe(root)}`, root);

  for (const pair of root.items) {
    const key = v.keyName(pair, '');
    const value = v.resolve(pair.value);
    const node = valueOrKey(pair, value);
    switch (key) {
      case 'script':
        if (!isEmpty(value)) config.script = v.script(value, node);
        break;
      case 'args':
        config.args = v.args(value, node);
        break;
      case 'env':
        config.env = v.env(value, node);
        break;
      case 'image':
        if (!isEmpty(value)) config.image = v.image(value, node);
        break;
      case 'target':
        if (!isEmpty(value)) v.target(value, node);
        break;
      case 'resources':
        config.resources = v.resources(value, node);
        break;
      case 'timeout':
        if (!isEmpty(value)) config.timeoutSeconds = v.timeout(value, node);
        break;
      case 'network':
        if (!isEmpty(value)) config.network = v.network(value, node);
        break;
      default:
        v.fail(key, unknownKeyReason(key, TOP_KEYS, { keys: RESOURCE_KEYS, under: 'resources' }), pair.key);
    }
  }
  return config;
}

type Position = { line: number; column: number };
type YamlValue = Node | null | undefined;

/** A key written with nothing after it (`image:`) means "not set", like leaving the line out. */
function isEmpty(node: YamlValue): node is null | undefined | Scalar<null> {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

function valueOrKey(pair: Pair<unknown, unknown>, value: YamlValue): Node | undefined {
  if (value && !isEmpty(value)) return value;
  return (isScalar(pair.key) ? pair.key : undefined) ?? undefined;
}

class Validator {
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly at: (offset: number | undefined) => Position | undefined,
  ) {}

  fail(key: string, reason: string, node?: unknown): never {
    const range = node && typeof node === 'object' && 'range' in node ? (node as Node).range : undefined;
    throw new RunConfigError(this.file, key, reason, this.at(range?.[0]));
  }

  resolve(node: unknown): YamlValue {
    if (isAlias(node)) return node.resolve(this.doc) as Node | undefined;
    return node as YamlValue;
  }

  describe(node: YamlValue): string {
    if (isMap(node)) return 'a mapping';
    if (isSeq(node)) return 'a list';
    if (isScalar(node)) return show(node.value);
    return 'that';
  }

  keyName(pair: Pair<unknown, unknown>, parent: string): string {
    const key = this.resolve(pair.key);
    if (isScalar(key) && (typeof key.value === 'string' || typeof key.value === 'number')) return String(key.value);
    this.fail(parent || '(top level)', `keys must be plain names, not ${this.describe(key)}`, key);
  }

  /** Numbers and booleans become their source text (`1.0` stays "1.0", not "1"): the script sees what the user wrote. */
  text(node: YamlValue): string | undefined {
    if (!isScalar(node)) return undefined;
    const value = node.value;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
      return node.type === 'PLAIN' && node.source ? node.source : String(value);
    }
    return undefined;
  }

  script(value: YamlValue, node: Node | undefined): string {
    if (!isScalar(value) || typeof value.value !== 'string') {
      this.fail('script', `must be a path relative to the workspace folder, like iris/train.py, not ${this.describe(value)}`, node);
    }
    const raw = value.value.trim();
    const script = raw.replace(/\\/g, '/');
    if (script === '') this.fail('script', 'is empty; give a path like iris/train.py or remove the line', node);
    if (script.startsWith('/') || /^[A-Za-z]:/.test(script)) {
      this.fail('script', `${show(raw)} is absolute; give a path relative to the workspace folder, like iris/train.py`, node);
    }
    if (script.split('/').includes('..')) {
      this.fail('script', `${show(raw)} leaves the workspace folder; ".." is not allowed (runs only see the workspace)`, node);
    }
    if (!script.endsWith('.py')) this.fail('script', `${show(raw)} is not a Python script; the path must end with .py`, node);
    return path.posix.normalize(script);
  }

  args(value: YamlValue, node: Node | undefined): string[] {
    if (isEmpty(value)) return [];
    if (isScalar(value) && typeof value.value === 'string') {
      // Splitting is on whitespace only; quotes would be passed through literally, which is never what was meant.
      if (/["']/.test(value.value)) {
        const reason = 'contains quotes, but a single string is only split on spaces; write a list to keep spaces inside an argument';
        this.fail('args', `${reason}, like ["--name", "my run"]`, node);
      }
      return value.value.split(/\s+/).filter((a) => a !== '');
    }
    if (!isSeq(value)) {
      this.fail('args', `must be a list of strings, like ["--epochs", "3"], or one string split on spaces, not ${this.describe(value)}`, node);
    }
    return value.items.map((item, i) => {
      const resolved = this.resolve(item);
      const text = this.text(resolved);
      if (text === undefined) {
        const what = isEmpty(resolved) ? 'is empty; write "" for an empty argument' : `must be a string or number, not ${this.describe(resolved)}`;
        this.fail(`args[${i}]`, what, resolved ?? node);
      }
      return text;
    });
  }

  env(value: YamlValue, node: Node | undefined): Record<string, string> {
    if (isEmpty(value)) return {};
    if (!isMap(value)) this.fail('env', `must be a mapping of variable names to values, like "SEED: 42", not ${this.describe(value)}`, node);
    const env: Record<string, string> = {};
    for (const pair of (value as YAMLMap).items) {
      const name = this.keyName(pair, 'env');
      const key = `env.${name}`;
      // Docker passes variables as NAME=VALUE, so "=" cannot be part of a name.
      if (name === '' || name.includes('=') || name.includes('\0')) {
        this.fail(key, 'is not a valid environment variable name; use letters, digits and "_"', pair.key);
      }
      const resolved = this.resolve(pair.value);
      const text = this.text(resolved);
      if (text === undefined) {
        const what = isEmpty(resolved)
          ? 'has no value; write "" for an empty value'
          : `must be a string, number or true/false, not ${this.describe(resolved)}`;
        this.fail(key, what, valueOrKey(pair, resolved));
      }
      env[name] = text;
    }
    return env;
  }

  image(value: YamlValue, node: Node | undefined): string {
    if (!isScalar(value) || typeof value.value !== 'string' || value.value.trim() === '' || /\s/.test(value.value.trim())) {
      this.fail('image', `must be an image reference like python:3.12-slim, not ${this.describe(value)}`, node);
    }
    return value.value.trim();
  }

  target(value: YamlValue, node: Node | undefined): void {
    if (isScalar(value) && value.value === 'local') return;
    this.fail('target', `${this.describe(value)} is not available; only "local" (this machine's Docker) is available for now`, node);
  }

  network(value: YamlValue, node: Node | undefined): 'none' | 'bridge' {
    if (isScalar(value) && (value.value === 'none' || value.value === 'bridge')) return value.value;
    this.fail('network', `${this.describe(value)} is not allowed; use "bridge" (the default) or "none" (no network access)`, node);
  }

  timeout(value: YamlValue, node: Node | undefined): number {
    const seconds = isScalar(value) ? parseDuration(value.value) : undefined;
    if (seconds === undefined) {
      this.fail('timeout', `${this.describe(value)} is not a duration; use a number of seconds or e.g. 90s, 30m, 1h30m, 2h`, node);
    }
    if (seconds <= 0) this.fail('timeout', `must be greater than 0, not ${this.describe(value)}`, node);
    return seconds;
  }

  resources(value: YamlValue, node: Node | undefined): RunConfig['resources'] {
    if (isEmpty(value)) return {};
    if (!isMap(value)) this.fail('resources', `must be a mapping with cpus, memory and/or gpus, not ${this.describe(value)}`, node);
    const resources: RunConfig['resources'] = {};
    for (const pair of (value as YAMLMap).items) {
      const name = this.keyName(pair, 'resources');
      const key = `resources.${name}`;
      const v = this.resolve(pair.value);
      const at = valueOrKey(pair, v);
      if (!RESOURCE_KEYS.includes(name)) {
        this.fail(key, unknownKeyReason(name, RESOURCE_KEYS, { keys: TOP_KEYS, under: undefined }), pair.key);
      }
      if (isEmpty(v)) continue;
      const raw = isScalar(v) ? v.value : undefined;
      if (name === 'cpus') {
        if (typeof raw !== 'number' || !Number.isFinite(raw) || raw <= 0) {
          this.fail(key, `must be a number of CPUs greater than 0, like 1.5, not ${this.describe(v)}`, at);
        }
        resources.cpus = raw;
      } else if (name === 'memory') {
        const bytes = parseMemory(raw);
        if (bytes === undefined) {
          this.fail(key, `${this.describe(v)} is not a size; use a number of bytes or a suffix like 512m or 2g`, at);
        }
        if (bytes < MIN_MEMORY_BYTES) this.fail(key, `${this.describe(v)} is below Docker's minimum of 6m (6 MiB)`, at);
        resources.memoryBytes = bytes;
      } else {
        if (typeof raw === 'string' && raw.toLowerCase() === 'all') {
          resources.gpus = 'all';
        } else if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) {
          if (raw > 0) resources.gpus = raw;
        } else {
          this.fail(key, `must be a whole number of GPUs (0 or more) or "all", not ${this.describe(v)}`, at);
        }
      }
    }
    return resources;
  }
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * "did you mean" for a misspelt key, also catching a key put at the wrong level (`memory:` at the top instead of
 * under `resources:`), the most likely mistake in a two-level file.
 */
function unknownKeyReason(key: string, known: string[], other: { keys: string[]; under: string | undefined }): string {
  const here = closest(key, known);
  if (here) return `unknown key; did you mean "${here}"?`;
  const there = closest(key, other.keys);
  if (there) {
    if (other.under) return `unknown key; "${there}" goes under "${other.under}:"`;
    return `unknown key; "${there}" is a top-level key, not under "resources:"`;
  }
  return `unknown key; known keys are ${known.join(', ')}`;
}

function closest(key: string, candidates: string[]): string | undefined {
  const k = key.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    // Prefixes catch abbreviations and longer spellings (mem, environment, timeout_seconds) edit distance misses.
    const prefix = Math.min(k.length, candidate.length) >= 3 && (k.startsWith(candidate) || candidate.startsWith(k));
    const distance = prefix ? 0 : editDistance(k, candidate);
    if (distance <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) {
      best = { candidate, distance };
    }
  }
  return best?.candidate;
}

/** Levenshtein distance, counting a transposition of neighbours as one edit. */
function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      // A swapped pair of letters (imgae) is one typo, not two.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) current[j] = Math.min(current[j], beforePrevious[j - 2] + 1);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length];
}

const DURATION_UNITS: Array<[RegExp, number]> = [
  [/^(?:d|days?)$/, 86400],
  [/^(?:h|hrs?|hours?)$/, 3600],
  [/^(?:m|mins?|minutes?)$/, 60],
  [/^(?:s|secs?|seconds?)$/, 1],
];

/**
 * Seconds, from a number (taken as seconds) or a string like "90", "90s", "30m", "1h30m", "1.5h", "2h 15m"
 * (units d/h/m/s, largest first, each at most once). Undefined when not parseable; sign and zero are left to
 * the caller, which knows whether they make sense.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  const part = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/y;
  let total = 0;
  let lastUnit = Infinity;
  let index = 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    if (!match) return undefined;
    const unit = DURATION_UNITS.find(([pattern]) => pattern.test(match[2]))?.[1];
    if (unit === undefined || unit >= lastUnit) return undefined;
    total += Number(match[1]) * unit;
    lastUnit = unit;
    index = part.lastIndex;
  }
  return index === 0 ? undefined : total;
}

const MEMORY_UNITS: Record<string, number> = { '': 1, k: 1024, m: MIB, g: 1024 * MIB, t: 1024 * 1024 * MIB };

/**
 * Bytes, from a number or a string like "512m", "2g", "1.5GiB", "512 MB", "1024". Every suffix is binary
 * (MB = MiB), as in Docker's own `--memory`, so a value means what it would mean there. Fractions of a
 * byte are dropped. Undefined when not parseable or beyond exact integer range.
 */
export function parseMemory(value: unknown): number | undefined {
  let bytes: number;
  if (typeof value === 'number') {
    bytes = value;
  } else if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?$/i.exec(value.trim());
    if (!match) return undefined;
    bytes = Number(match[1]) * MEMORY_UNITS[(match[2] ?? '').toLowerCase()];
  } else {
    return undefined;
  }
  bytes = Math.floor(bytes);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** The folder-relative file of a config, preferring .yaml; both existing is ambiguous and reported. */
async function existingFile(workspaceRoot: string, name: string): Promise<string | undefined> {
  const present: string[] = [];
  for (const ext of EXTENSIONS) {
    const rel = path.join(RUNCONFIG_DIR, name + ext);
    try {
      await fs.promises.access(path.join(workspaceRoot, rel));
      present.push(rel);
    } catch {
      // absent
    }
  }
  if (present.length > 1) {
    throw new UserFacingError(`Both ${present.join(' and ')} exist, so run configuration "${name}" is ambiguous; remove one.`);
  }
  return present[0];
}

/** Undefined when the config has no file. Errors name the workspace-relative path; the result's `file` is absolute. */
export async function loadRunConfig(workspaceRoot: string, name: string): Promise<RunConfig | undefined> {
  checkName(name);
  const rel = await existingFile(workspaceRoot, name);
  if (!rel) return undefined;
  const file = path.join(workspaceRoot, rel);
  // Removed between the existence check and the read: the same as never having existed.
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  return { ...parseRunConfig(name, rel, text), file };
}

/** Names of the configs in the folder, sorted; files whose names loadRunConfig would refuse are left out. */
export async function listRunConfigs(workspaceRoot: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await fs.promises.readdir(path.join(workspaceRoot, RUNCONFIG_DIR));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  const names = new Set<string>();
  for (const entry of entries) {
    const ext = EXTENSIONS.find((e) => entry.endsWith(e));
    if (!ext) continue;
    const name = entry.slice(0, -ext.length);
    if (validateRunConfigName(name) === undefined) names.add(name);
  }
  return [...names].sort();
}

/**
 * Validates `text` (a config that would not load is never written), then writes it atomically. An existing
 * `<name>.yml` is overwritten in place rather than shadowed by a new `.yaml`. Returns the absolute path.
 */
export async function saveRunConfig(workspaceRoot: string, name: string, text: string): Promise<string> {
  checkName(name);
  const rel = (await existingFile(workspaceRoot, name)) ?? path.join(RUNCONFIG_DIR, name + '.yaml');
  parseRunConfig(name, rel, text);
  const file = path.join(workspaceRoot, rel);
  await writeFileAtomic(file, text);
  return file;
}

/**
 * A commented template the user edits: the active lines give the default behaviour, the commented ones show
 * every other setting with an example, so uncommenting a line is all it takes to use it.
 */
export function runConfigTemplate(script?: string): string {
  const relative = script?.replace(/\\/g, '/');
  // A JSON string is a valid YAML double-quoted scalar: quoting covers spaces, "#" and ": " in paths.
  const scriptLine =
    relative === undefined
      ? '# script: train.py'
      : `script: ${/^[\w./-]+$/.test(relative) ? relative : JSON.stringify(relative)}`;
  return [
    '# ML Workbench run configuration.',
    '# "Run as Experiment" uses the configuration named "default"; "Run as Experiment…" lets you pick one.',
    '# To use a commented-out setting, delete the "# " in front of it (Toggle Line Comment does exactly that).',
    '',
    '# The script to run, relative to the workspace folder. Without it, the script open in the editor runs.',
    scriptLine,
    '',
    '# Command-line arguments: a list of strings (numbers are fine), or one string split on spaces.',
    'args: []',
    '# args: ["--epochs", "3", "--lr", "0.01"]',
    '',
    '# Environment variables for the script.',
    'env:',
    '#   SEED: "42"',
    '',
    '# Use exactly this Docker image instead of building one from requirements.txt.',
    '# image: python:3.12-slim',
    '',
    '# Where the run executes; only "local" (this machine\'s Docker) for now.',
    'target: local',
    '',
    '# Limits for the container: CPUs (a number > 0), memory (bytes, or a suffix like 512m or 2g; at least 6m)',
    '# and GPUs (a whole number, or "all"; 0 or absent means none).',
    'resources:',
    '#   cpus: 1.5',
    '#   memory: 2g',
    '#   gpus: 0',
    '',
    '# Stop the run after this long: seconds, or e.g. 90s, 30m, 1h30m.',
    '# timeout: 1h',
    '',
    '# Network access of the script: "bridge" (the default) or "none" (no network).',
    'network: bridge',
    '',
  ].join('\n');
}
