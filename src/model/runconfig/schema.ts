/**
 * The one table of run configuration keys. The parser, the template, the JSON Schema and the language server's
 * completion and hover all read it, so a key is added, renamed or documented here and nowhere else.
 */
import * as path from 'node:path';
import { Node, Pair, YAMLMap, isMap, isScalar, isSeq } from 'yaml';
import { RunConfig } from './types';
import { DURATION_PATTERN, MEMORY_PATTERN, MIN_MEMORY_BYTES, parseDuration, parseMemory } from './units';
import { YamlValue, describe, isEmpty, scalarText, show } from './yamlValues';

/** What a validator may do: report problems at a node, and read aliases and keys the way the parser does. */
export interface Check {
  /** `node` gives the range; a problem without one points at the start of the file. */
  report(key: string, message: string, node: unknown): void;
  resolve(node: unknown): YamlValue;
  /** The plain name of a pair's key, or undefined after reporting why it is not one. */
  keyName(pair: Pair<unknown, unknown>, parent: string): string | undefined;
}

/** A draft-07 schema fragment; kept loose since it is only ever serialised. */
export type JsonSchema = { [keyword: string]: unknown };

export interface RunConfigKey {
  /** Dotted from the top: "timeout", "resources.cpus". */
  readonly path: string;
  readonly name: string;
  /** The path of the mapping it goes under; '' at the top level. */
  readonly parent: string;
  /** For hover: what kind of value it takes, in words. */
  readonly type: string;
  /** One plain sentence: template comments and the schema's description. */
  readonly summary: string;
  /** Markdown for hover and the schema's markdownDescription: the summary and any details. */
  readonly documentation: string;
  /** The YAML text of a valid value (for a mapping, its lines without indentation). */
  readonly example: string;
  /** The value when the key is absent, when there is one to show (the template writes it as an active line). */
  readonly default?: unknown;
  /** The only values allowed, when they are a fixed set: completion offers them. */
  readonly enumValues?: readonly string[];
  /** The JSON Schema of the value, without "not set" (null), which every key allows. */
  readonly schema: JsonSchema;
  /** Keys of a mapping-valued key whose keys are fixed (resources); the parser walks into it. */
  readonly children?: readonly RunConfigKey[];
}

/** A key as the parser uses it: validate a non-empty value, then store what came out. */
export interface KeySpec extends RunConfigKey {
  readonly children?: readonly KeySpec[];
  read(value: Node, check: Check, config: RunConfig): void;
}

interface Definition<T> extends Omit<RunConfigKey, 'path' | 'parent' | 'documentation' | 'children'> {
  details?: string;
  children?: KeySpec[];
  /** Undefined when it reported a problem. */
  validate?(value: Node, check: Check, key: string): T | undefined;
  apply?(config: RunConfig, value: T): void;
}

function key<T>(definition: Definition<T>): KeySpec {
  const { details, validate, apply, ...rest } = definition;
  return {
    ...rest,
    path: definition.name,
    parent: '',
    documentation: details ? `${definition.summary}\n\n${details}` : definition.summary,
    read(value, check, config) {
      const result = validate?.(value, check, this.path);
      if (result !== undefined) apply?.(config, result);
    },
  };
}

/** Places children under their parent, so paths and "goes under" suggestions come from the nesting itself. */
function under(parent: KeySpec, children: KeySpec[]): KeySpec {
  const placed = children.map((child) => ({ ...child, parent: parent.path, path: `${parent.path}.${child.name}` }));
  return { ...parent, children: placed };
}

const script = key<string>({
  name: 'script',
  type: 'string: a workspace-relative path to a .py file',
  summary: 'The script to run, relative to the workspace folder. Without it, the script open in the editor runs.',
  details: 'Forward or back slashes; absolute paths and `..` are refused, since a run only sees the workspace.',
  example: 'train.py',
  schema: {
    type: 'string',
    // Not absolute, no ".." segment, ends with .py: what the validator checks (the tests compare both on samples).
    pattern: String.raw`^(?!\s*(?:[\\/]|[A-Za-z]:))(?!\s*(?:.*[\\/])?\.\.[\\/]).*\.py\s*$`,
  },
  validate(value, check, k) {
    if (!isScalar(value) || typeof value.value !== 'string') {
      return void check.report(k, `must be a path relative to the workspace folder, like iris/train.py, not ${describe(value)}`, value);
    }
    const raw = value.value.trim();
    const relative = raw.replace(/\\/g, '/');
    let problem: string | undefined;
    if (relative === '') problem = 'is empty; give a path like iris/train.py or remove the line';
    else if (relative.startsWith('/') || /^[A-Za-z]:/.test(relative)) {
      problem = `${show(raw)} is absolute; give a path relative to the workspace folder, like iris/train.py`;
    } else if (relative.split('/').includes('..')) {
      problem = `${show(raw)} leaves the workspace folder; ".." is not allowed (runs only see the workspace)`;
    } else if (!relative.endsWith('.py')) problem = `${show(raw)} is not a Python script; the path must end with .py`;
    if (problem) return void check.report(k, problem, value);
    return path.posix.normalize(relative);
  },
  apply: (config, value) => (config.script = value),
});

const args = key<string[]>({
  name: 'args',
  type: 'list of strings (numbers are fine), or one string split on spaces',
  summary: 'Command-line arguments: a list of strings (numbers are fine), or one string split on spaces.',
  details: 'Write a list to keep spaces inside an argument: quotes inside a single string are not interpreted.',
  example: '["--epochs", "3", "--lr", "0.01"]',
  default: [],
  schema: {
    anyOf: [
      { type: 'array', items: { type: ['string', 'number', 'boolean'] } },
      { type: 'string', pattern: `^[^"']*$` },
    ],
  },
  validate(value, check, k) {
    if (isScalar(value) && typeof value.value === 'string') {
      // Splitting is on whitespace only; quotes would be passed through literally, which is never what was meant.
      if (/["']/.test(value.value)) {
        const reason = 'contains quotes, but a single string is only split on spaces; write a list to keep spaces inside an argument';
        return void check.report(k, `${reason}, like ["--name", "my run"]`, value);
      }
      return value.value.split(/\s+/).filter((a) => a !== '');
    }
    if (!isSeq(value)) {
      return void check.report(k, `must be a list of strings, like ["--epochs", "3"], or one string split on spaces, not ${describe(value)}`, value);
    }
    const result: string[] = [];
    let valid = true;
    value.items.forEach((item, i) => {
      const resolved = check.resolve(item);
      const text = scalarText(resolved);
      if (text === undefined) {
        const what = isEmpty(resolved) ? 'is empty; write "" for an empty argument' : `must be a string or number, not ${describe(resolved)}`;
        check.report(`${k}[${i}]`, what, resolved ?? value);
        valid = false;
      } else {
        result.push(text);
      }
    });
    return valid ? result : undefined;
  },
  apply: (config, value) => (config.args = value),
});

const env = key<Record<string, string>>({
  name: 'env',
  type: 'mapping of variable names to strings, numbers or true/false',
  summary: 'Environment variables for the script.',
  details: 'Values are passed as written: `1.0` stays `1.0`.',
  example: 'SEED: "42"',
  default: {},
  schema: {
    type: 'object',
    propertyNames: { pattern: '^[^=\\u0000]+$' },
    additionalProperties: { type: ['string', 'number', 'boolean'] },
  },
  validate(value, check, k) {
    if (!isMap(value)) {
      return void check.report(k, `must be a mapping of variable names to values, like "SEED: 42", not ${describe(value)}`, value);
    }
    const result: Record<string, string> = {};
    let valid = true;
    for (const pair of (value as YAMLMap).items) {
      const name = check.keyName(pair, k);
      if (name === undefined) {
        valid = false;
        continue;
      }
      const variable = `${k}.${name}`;
      // Docker passes variables as NAME=VALUE, so "=" cannot be part of a name.
      if (name === '' || name.includes('=') || name.includes('\0')) {
        check.report(variable, 'is not a valid environment variable name; use letters, digits and "_"', pair.key);
        valid = false;
        continue;
      }
      const resolved = check.resolve(pair.value);
      const text = scalarText(resolved);
      if (text === undefined) {
        const what = isEmpty(resolved) ? 'has no value; write "" for an empty value' : `must be a string, number or true/false, not ${describe(resolved)}`;
        check.report(variable, what, isEmpty(resolved) ? pair.key : resolved);
        valid = false;
        continue;
      }
      result[name] = text;
    }
    return valid ? result : undefined;
  },
  apply: (config, value) => (config.env = value),
});

const image = key<string>({
  name: 'image',
  type: 'string: a Docker image reference',
  summary: "Use exactly this Docker image instead of building one from the project's environment files.",
  details: 'Nothing is built: the image must already contain what the script needs.',
  example: 'python:3.12-slim',
  schema: { type: 'string', pattern: String.raw`^\s*\S+\s*$` },
  validate(value, check, k) {
    if (!isScalar(value) || typeof value.value !== 'string' || value.value.trim() === '' || /\s/.test(value.value.trim())) {
      return void check.report(k, `must be an image reference like python:3.12-slim, not ${describe(value)}`, value);
    }
    return value.value.trim();
  },
  apply: (config, value) => (config.image = value),
});

const target = key<'local'>({
  name: 'target',
  type: '"local"',
  summary: 'Where the run executes; only "local" (this machine\'s Docker) for now.',
  example: 'local',
  default: 'local',
  enumValues: ['local'],
  schema: { enum: ['local'] },
  validate(value, check, k) {
    if (isScalar(value) && value.value === 'local') return 'local';
    check.report(k, `${describe(value)} is not available; only "local" (this machine's Docker) is available for now`, value);
  },
  apply: (config, value) => (config.target = value),
});

const cpus = key<number>({
  name: 'cpus',
  type: 'number greater than 0',
  summary: 'How many CPUs the run may use, a number greater than 0, like 1.5.',
  example: '1.5',
  schema: { type: 'number', exclusiveMinimum: 0 },
  validate(value, check, k) {
    const raw = isScalar(value) ? value.value : undefined;
    if (typeof raw === 'number' && Number.isFinite(raw) && raw > 0) return raw;
    check.report(k, `must be a number of CPUs greater than 0, like 1.5, not ${describe(value)}`, value);
  },
  apply: (config, value) => (config.resources.cpus = value),
});

const memory = key<number>({
  name: 'memory',
  type: 'size: bytes, or a number with a suffix like 512m or 2g',
  summary: "The memory limit, in bytes or with a suffix like 512m or 2g; at least 6m (half of the Docker engine's memory when not set).",
  details: "Every suffix is binary (`2GB` = `2g` = 2 GiB), as in Docker's `--memory`. Past the limit the run is stopped as out of memory.",
  example: '2g',
  schema: { anyOf: [{ type: 'number', minimum: MIN_MEMORY_BYTES }, { type: 'string', pattern: MEMORY_PATTERN }] },
  validate(value, check, k) {
    const bytes = parseMemory(isScalar(value) ? value.value : undefined);
    if (bytes === undefined) {
      return void check.report(k, `${describe(value)} is not a size; use a number of bytes or a suffix like 512m or 2g`, value);
    }
    if (bytes < MIN_MEMORY_BYTES) return void check.report(k, `${describe(value)} is below Docker's minimum of 6m (6 MiB)`, value);
    return bytes;
  },
  apply: (config, value) => (config.resources.memoryBytes = value),
});

const gpus = key<number | 'all'>({
  name: 'gpus',
  type: 'whole number (0 or more) or "all"',
  summary: 'How many GPUs the run gets, a whole number or "all"; 0 or absent means none.',
  details: 'A run asking for GPUs is refused when the Docker engine has no GPU runtime.',
  example: '0',
  enumValues: ['all'],
  schema: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^[aA][lL][lL]$' }] },
  validate(value, check, k) {
    const raw = isScalar(value) ? value.value : undefined;
    if (typeof raw === 'string' && raw.toLowerCase() === 'all') return 'all';
    if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) return raw;
    check.report(k, `must be a whole number of GPUs (0 or more) or "all", not ${describe(value)}`, value);
  },
  apply: (config, value) => {
    if (value !== 0) config.resources.gpus = value;
  },
});

/** Fewer than this and docker-init and python cannot both start, which fails in ways that name no key. */
const MIN_PIDS = 4;

const pids = key<number>({
  name: 'pids',
  type: `whole number, at least ${MIN_PIDS}`,
  summary: 'Most processes and threads the run may have at once (4096 when not set).',
  details: 'A guard against fork bombs and runaway thread pools; data-loader workers and BLAS threads each count.',
  example: '4096',
  schema: { type: 'integer', minimum: MIN_PIDS },
  validate(value, check, k) {
    const raw = isScalar(value) ? value.value : undefined;
    if (typeof raw === 'number' && Number.isInteger(raw) && raw >= MIN_PIDS) return raw;
    check.report(k, `must be a whole number of processes, at least ${MIN_PIDS}, like 4096, not ${describe(value)}`, value);
  },
  apply: (config, value) => (config.resources.pids = value),
});

/** A cap on what a run writes somewhere, in bytes or with a binary suffix, as memory is written. */
function sizeCap(name: string, summary: string, example: string, apply: (config: RunConfig, bytes: number) => void): KeySpec {
  return key<number>({
    name,
    type: 'size: bytes, or a number with a suffix like 100m or 10g',
    summary,
    details: 'Sizes are apparent sizes (a sparse file counts in full), with binary suffixes (`1g` = 1 GiB). A run that passes the cap is stopped and fails with a reason naming this key.',
    example,
    schema: { anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'string', pattern: MEMORY_PATTERN }] },
    validate(value, check, k) {
      const bytes = parseMemory(isScalar(value) ? value.value : undefined);
      if (bytes === undefined) {
        return void check.report(k, `${describe(value)} is not a size; use a number of bytes or a suffix like 100m or 10g`, value);
      }
      if (bytes <= 0) return void check.report(k, `must be greater than 0, not ${describe(value)}`, value);
      return bytes;
    },
    apply,
  });
}

const outputsCap = sizeCap('outputs', 'The most the run may write to its outputs folder (10g when not set).', '10g', (c, v) => (c.resources.outputsBytes = v));
const logsCap = sizeCap('logs', 'The most output (stdout and stderr) the run may print (100m when not set).', '100m', (c, v) => (c.resources.logsBytes = v));
const trackingCap = sizeCap('tracking', 'The most the run may log as metrics, params and tags (100m when not set).', '100m', (c, v) => (c.resources.trackingBytes = v));

const resources = under(
  key<never>({
    name: 'resources',
    type: 'mapping with cpus, memory, gpus, pids, outputs, logs and/or tracking',
    summary: 'Limits for the container and caps on what the run may write.',
    details: 'Without `memory`, a run may use half of the Docker engine\'s memory; the run record lists the limits it ran under.',
    example: 'cpus: 1.5\nmemory: 2g',
    default: {},
    schema: { type: 'object' },
  }),
  [cpus, memory, gpus, pids, outputsCap, logsCap, trackingCap],
);

const timeout = key<number>({
  name: 'timeout',
  type: 'duration: seconds, or e.g. 90s, 30m, 1h30m',
  summary: 'Stop the run after this long: seconds, or e.g. 90s, 30m, 1h30m.',
  details: 'Units d, h, m and s, largest first, each at most once; fractions are fine (`1.5h`).',
  example: '1h',
  schema: { anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'string', pattern: DURATION_PATTERN }] },
  validate(value, check, k) {
    const seconds = isScalar(value) ? parseDuration(value.value) : undefined;
    if (seconds === undefined) {
      return void check.report(k, `${describe(value)} is not a duration; use a number of seconds or e.g. 90s, 30m, 1h30m, 2h`, value);
    }
    if (seconds <= 0) return void check.report(k, `must be greater than 0, not ${describe(value)}`, value);
    return seconds;
  },
  apply: (config, value) => (config.timeoutSeconds = value),
});

const network = key<'none' | 'bridge'>({
  name: 'network',
  type: '"bridge" or "none"',
  summary:
    'Network access of the script: "bridge" (the default: the network, and services on this machine listening on all addresses) or "none" (no network).',
  details:
    'With "bridge" the script reaches what the Docker host reaches, and through the bridge gateway also services on the ' +
    'host itself that listen on all addresses (0.0.0.0), not only on 127.0.0.1. "none" leaves it only a loopback interface of its own.',
  example: 'none',
  default: 'bridge',
  enumValues: ['bridge', 'none'],
  schema: { enum: ['bridge', 'none'] },
  validate(value, check, k) {
    if (isScalar(value) && (value.value === 'none' || value.value === 'bridge')) return value.value;
    check.report(k, `${describe(value)} is not allowed; use "bridge" (the default) or "none" (no network access)`, value);
  },
  apply: (config, value) => (config.network = value),
});

/** In the order the template writes them and "known keys are" lists them. */
export const TOP_LEVEL_KEYS: readonly KeySpec[] = [script, args, env, image, target, resources, timeout, network];

const ALL_KEYS: readonly KeySpec[] = TOP_LEVEL_KEYS.flatMap((k) => [k, ...(k.children ?? [])]);

/** Every key, each parent followed by its children. */
export function runConfigKeys(): readonly RunConfigKey[] {
  return ALL_KEYS;
}

/** The key at a dotted path or list of names ("resources.cpus", ["resources", "cpus"]); undefined for unknown ones. */
export function keyAt(keyPath: string | readonly string[]): RunConfigKey | undefined {
  const dotted = typeof keyPath === 'string' ? keyPath : keyPath.join('.');
  return ALL_KEYS.find((k) => k.path === dotted);
}

/** The keys allowed directly under a mapping ('' for the top level): what completion offers there. */
export function keysUnder(parent: string): readonly RunConfigKey[] {
  return ALL_KEYS.filter((k) => k.parent === parent);
}

/** A YAML snippet showing the key with its example, nested under its parent: for hover. */
export function exampleSnippet(k: RunConfigKey): string {
  const own = k.example.includes('\n') || k.schema.type === 'object'
    ? `${k.name}:\n${k.example.split('\n').map((line) => `  ${line}`).join('\n')}`
    : `${k.name}: ${k.example}`;
  if (!k.parent) return own;
  return `${k.parent}:\n${own.split('\n').map((line) => `  ${line}`).join('\n')}`;
}
