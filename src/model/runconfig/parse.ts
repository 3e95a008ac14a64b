/**
 * Parsing and validating one run configuration's text against the key table. Every problem is collected, each
 * with its range, for editors; parseRunConfig keeps the runner's and CLI's contract of refusing on the first.
 *
 * Validation is strict and precise on purpose: a config is hand-edited, and a typo that is silently ignored
 * (say `timout: 1h`) is worse than an error naming the file, the key and the fix.
 */
import { Document, LineCounter, Pair, YAMLMap, isAlias, isMap, isScalar, parseDocument } from 'yaml';
import { RunConfigProblem, problemAt } from './problems';
import { Check, KeySpec, TOP_LEVEL_KEYS, runConfigKeys } from './schema';
import { unknownKeyReason } from './suggest';
import { RunConfig, RunConfigError, defaultRunConfig } from './types';
import { YamlValue, describe, isEmpty } from './yamlValues';

export interface RunConfigDocument {
  /** Present when no problem is an error. */
  config?: RunConfig;
  /** Syntax errors first (then nothing else: the tree after one is the parser's guess), else in document order. */
  problems: RunConfigProblem[];
}

/** `file` only becomes the result's `file`; problems are about positions, not paths. */
export function parseRunConfigDocument(name: string, file: string, text: string): RunConfigDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((error) => {
        const { line, col } = lines.linePos(error.pos[0]);
        // The library's advice for this one (parseAllDocuments) is about its API, not about the user's file.
        const reason =
          error.code === 'MULTIPLE_DOCS' ? 'a run configuration is a single YAML document; remove the second "---"' : error.message;
        return problemAt(lines, `line ${line}, column ${col}`, reason, error.pos[0], error.pos[1]);
      }),
    };
  }
  const check = new Collector(doc, lines);
  const config: RunConfig = { ...defaultRunConfig(), name, file };
  const root = check.resolve(doc.contents);
  if (!isEmpty(root)) {
    if (isMap(root)) readMapping(root, '', TOP_LEVEL_KEYS, check, config);
    else check.report('(top level)', `must be a mapping of settings like "script: train.py", not ${describe(root)}`, root);
  }
  const problems = check.problems;
  return problems.some((p) => p.severity === 'error') ? { problems } : { config, problems };
}

/**
 * Parses and validates one config, throwing a RunConfigError for its first problem. `file` is only used in
 * error messages (and as the result's `file`), so callers pass whatever the user should read: loadRunConfig
 * passes the workspace-relative path.
 */
export function parseRunConfig(name: string, file: string, text: string): RunConfig {
  const { config, problems } = parseRunConfigDocument(name, file, text);
  if (!config) throw problemError(file, problems.find((p) => p.severity === 'error')!);
  return config;
}

/** The error the runner and CLI show for a problem: `${file}: ${key}: ${message}`, position 1-based. */
export function problemError(file: string, problem: RunConfigProblem): RunConfigError {
  const { line, character } = problem.range.start;
  return new RunConfigError(file, problem.key, problem.message, { line: line + 1, column: character + 1 });
}

function readMapping(map: YAMLMap, parent: string, keys: readonly KeySpec[], check: Collector, config: RunConfig): void {
  for (const pair of map.items) {
    const name = check.keyName(pair, parent);
    if (name === undefined) continue;
    const keyPath = parent ? `${parent}.${name}` : name;
    const spec = keys.find((k) => k.name === name);
    if (!spec) {
      check.report(keyPath, unknownKeyReason(name, parent, runConfigKeys()), pair.key);
      continue;
    }
    const value = check.resolve(pair.value);
    if (isEmpty(value)) continue;
    if (spec.children) {
      if (isMap(value)) readMapping(value, spec.path, spec.children, check, config);
      else check.report(spec.path, `must be a mapping with ${orList(spec.children.map((c) => c.name))}, not ${describe(value)}`, value);
    } else {
      spec.read(value, check, config);
    }
  }
}

function orList(names: string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and/or ${names[names.length - 1]}`;
}

class Collector implements Check {
  readonly problems: RunConfigProblem[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  report(key: string, message: string, node: unknown): void {
    const range = node && typeof node === 'object' && 'range' in node ? (node as { range?: [number, number, number] }).range : undefined;
    this.problems.push(problemAt(this.lines, key, message, range?.[0] ?? 0, range?.[1] ?? 0));
  }

  resolve(node: unknown): YamlValue {
    if (isAlias(node)) return node.resolve(this.doc) as YamlValue;
    return node as YamlValue;
  }

  keyName(pair: Pair<unknown, unknown>, parent: string): string | undefined {
    const key = this.resolve(pair.key);
    if (isScalar(key) && (typeof key.value === 'string' || typeof key.value === 'number')) return String(key.value);
    this.report(parent || '(top level)', `keys must be plain names, not ${describe(key)}`, key);
    return undefined;
  }
}
