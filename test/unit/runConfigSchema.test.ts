import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  RUNCONFIG_SCHEMA_FILE,
  RunConfigError,
  RunConfigProblem,
  defaultRunConfig,
  exampleSnippet,
  keyAt,
  keysUnder,
  parseDuration,
  parseMemory,
  parseRunConfig,
  parseRunConfigDocument,
  runConfigJsonSchema,
  runConfigJsonSchemaText,
  runConfigKeys,
  runConfigLocationAt,
  runConfigTemplate,
} from '../../src/model/runconfig/runConfig';
import { DURATION_PATTERN, MEMORY_PATTERN } from '../../src/model/runconfig/units';
import { REPO_ROOT } from '../harness/testWorkspace';

const FILE = '.mlw/runconfigs/fast.yaml';

/** Problems as `key @line:char-line:char: message`, so a failure shows every field at once. */
function summary(problems: RunConfigProblem[]): string[] {
  return problems.map((p) => {
    const { start, end } = p.range;
    return `${p.key} @${start.line}:${start.character}-${end.line}:${end.character}: ${p.message}`;
  });
}

function thrown(text: string): RunConfigError {
  try {
    parseRunConfig('fast', FILE, text);
  } catch (err) {
    assert.ok(err instanceof RunConfigError);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

describe('run configurations: every problem with its range', () => {
  const text = [
    'scrpt: train.py', // 0: misspelt key
    'args: 5', // 1: wrong type
    'resources:',
    '  memory: 2 gigs', // 3: not a size
    '  gpus: 1',
    'timeout: 0', // 5: not positive
    'cpus: 2', // 6: wrong level
    'env:',
    '  SEED: [1]', // 8: wrong type inside a mapping
    '',
  ].join('\n');

  it('reports them all, in document order, with exact 0-based ranges and offsets', () => {
    const { config, problems } = parseRunConfigDocument('fast', FILE, text);
    assert.equal(config, undefined);
    assert.deepEqual(summary(problems), [
      'scrpt @0:0-0:5: unknown key; did you mean "script"?',
      'args @1:6-1:7: must be a list of strings, like ["--epochs", "3"], or one string split on spaces, not 5',
      'resources.memory @3:10-3:16: "2 gigs" is not a size; use a number of bytes or a suffix like 512m or 2g',
      'timeout @5:9-5:10: must be greater than 0, not 0',
      'cpus @6:0-6:4: unknown key; "cpus" goes under "resources:"',
      'env.SEED @8:8-8:11: must be a string, number or true/false, not a list',
    ]);
    assert.ok(problems.every((p) => p.severity === 'error'));
    for (const p of problems) {
      assert.equal(text.slice(p.offsets.start, p.offsets.end), text.split('\n')[p.range.start.line].slice(p.range.start.character, p.range.end.character));
    }
    assert.equal(text.slice(problems[2].offsets.start, problems[2].offsets.end), '2 gigs');
  });

  it('throws the first of them from parseRunConfig, worded and placed as before', () => {
    const { problems } = parseRunConfigDocument('fast', FILE, text);
    const err = thrown(text);
    assert.equal(err.key, problems[0].key);
    assert.equal(err.reason, problems[0].message);
    assert.equal(err.message, `${FILE}: scrpt: unknown key; did you mean "script"?`);
    assert.deepEqual(err.position, { line: 1, column: 1 });
    // Without the first, the next one is what a run refuses on.
    assert.equal(thrown(text.replace('scrpt: train.py\n', '')).key, 'args');
  });

  it('reports each bad list item and environment variable, not only the first', () => {
    const { problems } = parseRunConfigDocument('fast', FILE, 'args: ["--a", [1], null]\nenv:\n  A:\n  "B=C": 1\n');
    assert.deepEqual(summary(problems), [
      'args[1] @0:14-0:17: must be a string or number, not a list',
      'args[2] @0:19-0:23: is empty; write "" for an empty argument',
      'env.A @2:2-2:3: has no value; write "" for an empty value',
      'env.B=C @3:2-3:7: is not a valid environment variable name; use letters, digits and "_"',
    ]);
  });

  it('stops at YAML syntax errors, since what follows one is the parser\'s guess', () => {
    const { config, problems } = parseRunConfigDocument('fast', FILE, 'timout: 1h\nargs: ["--a"\nnetwork: none\n');
    assert.equal(config, undefined);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].key, 'line 3, column 1');
    assert.deepEqual(problems[0].range.start, { line: 2, character: 0 });
    assert.match(problems[0].message, /Flow sequence/);
    assert.equal(thrown('timout: 1h\nargs: ["--a"\nnetwork: none\n').key, 'line 3, column 1');
  });

  it('returns the config and no problems for a valid file', () => {
    const result = parseRunConfigDocument('fast', FILE, 'network: none\nresources:\n  memory: 2GB\n');
    assert.deepEqual(result.problems, []);
    // "2GB" is valid: every suffix is binary, as in Docker.
    assert.deepEqual(result.config, { ...defaultRunConfig(), name: 'fast', file: FILE, network: 'none', resources: { memoryBytes: 2 * 1024 ** 3 } });
  });
});

describe('run configurations: the key table', () => {
  it('lists every key once, each parent followed by its children', () => {
    assert.deepEqual(
      runConfigKeys().map((k) => k.path),
      ['script', 'args', 'env', 'image', 'target', 'resources', 'resources.cpus', 'resources.memory', 'resources.gpus', 'resources.pids', 'resources.outputs',
        'resources.logs', 'resources.tracking', 'timeout', 'network'],
    );
    assert.deepEqual(keysUnder('').map((k) => k.name), ['script', 'args', 'env', 'image', 'target', 'resources', 'timeout', 'network']);
    assert.deepEqual(keysUnder('resources').map((k) => k.name), ['cpus', 'memory', 'gpus', 'pids', 'outputs', 'logs', 'tracking']);
    assert.deepEqual(keysUnder('env'), []);
  });

  it('finds a key by dotted path or by names, with what hover and completion show', () => {
    const cpus = keyAt('resources.cpus');
    assert.ok(cpus);
    assert.equal(keyAt(['resources', 'cpus']), cpus);
    assert.equal(cpus.parent, 'resources');
    assert.match(cpus.documentation, /greater than 0/);
    assert.equal(exampleSnippet(cpus), 'resources:\n  cpus: 1.5');
    assert.deepEqual(keyAt('network')?.enumValues, ['bridge', 'none']);
    assert.deepEqual(keyAt('target')?.enumValues, ['local']);
    assert.equal(keyAt('cpus'), undefined);
    assert.equal(keyAt('env.SEED'), undefined);
    assert.equal(exampleSnippet(keyAt('env')!), 'env:\n  SEED: "42"');
  });

  it('has documentation and an example the parser accepts for every key', () => {
    for (const k of runConfigKeys()) {
      assert.ok(k.summary && k.documentation.startsWith(k.summary) && k.type, k.path);
      const { problems } = parseRunConfigDocument('t', 't.yaml', exampleSnippet(k) + '\n');
      assert.deepEqual(problems, [], `${k.path}: ${exampleSnippet(k)}`);
    }
  });

  it('writes a template that parses with no problems, with or without a script', () => {
    for (const script of [undefined, 'iris/train.py', 'my dir/train #1.py']) {
      const { config, problems } = parseRunConfigDocument('t', 't.yaml', runConfigTemplate(script));
      assert.deepEqual(problems, [], String(script));
      assert.equal(config?.script, script);
    }
    const text = runConfigTemplate();
    for (const k of runConfigKeys()) assert.ok(text.includes(k.summary.split(' ').slice(0, 4).join(' ')), `${k.path} is documented`);
  });
});

describe('run configurations: the key under the cursor', () => {
  const text = 'script: a.py\nresources:\n  cpus: 2\nenv:\n  SEED: 1\n# a comment\n';
  const at = (needle: string, plus = 0) => runConfigLocationAt(text, text.indexOf(needle) + plus);

  it('names the key and whether the cursor is on it or in its value, with the range', () => {
    const key = at('cpus', 2);
    assert.deepEqual({ path: key?.path, on: key?.on, range: key?.range }, {
      path: ['resources', 'cpus'],
      on: 'key',
      range: { start: { line: 2, character: 2 }, end: { line: 2, character: 6 } },
    });
    assert.equal(key?.key, keyAt('resources.cpus'));
    assert.deepEqual([at('2')?.path, at('2')?.on], [['resources', 'cpus'], 'value']);
    assert.deepEqual([at('a.py', 4)?.path, at('a.py', 4)?.on], [['script'], 'value']);
    assert.equal(at('script')?.key?.name, 'script');
    const variable = at('SEED');
    assert.deepEqual(variable?.path, ['env', 'SEED']);
    assert.equal(variable?.key, undefined);
  });

  it('finds nothing in comments, past the end, or in a file that is not a mapping', () => {
    assert.equal(at('comment'), undefined);
    assert.equal(runConfigLocationAt(text, text.length + 5), undefined);
    assert.equal(runConfigLocationAt('- a\n- b\n', 1), undefined);
    assert.equal(runConfigLocationAt('', 0), undefined);
  });
});

describe('run configurations: JSON Schema', () => {
  const schema = runConfigJsonSchema() as { properties: Record<string, Record<string, unknown>>; additionalProperties: boolean };

  function propertyAt(keyPath: string): Record<string, unknown> | undefined {
    let props = schema.properties;
    let found: Record<string, unknown> | undefined;
    for (const name of keyPath.split('.')) {
      found = props?.[name];
      props = found?.properties as Record<string, Record<string, unknown>>;
    }
    return found;
  }

  it('is a draft-07 schema with exactly the table\'s keys at their levels, nothing else allowed', () => {
    assert.equal((schema as Record<string, unknown>).$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(schema.additionalProperties, false);
    assert.equal(propertyAt('resources')?.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties), keysUnder('').map((k) => k.name));
    assert.deepEqual(Object.keys(propertyAt('resources')?.properties as object), keysUnder('resources').map((k) => k.name));
    for (const k of runConfigKeys()) {
      const property = propertyAt(k.path);
      assert.ok(property, k.path);
      assert.equal(property.description, k.summary, k.path);
      assert.equal(property.markdownDescription, k.documentation, k.path);
    }
  });

  it('has the table\'s enums, with null (a key left empty) allowed everywhere', () => {
    assert.deepEqual(propertyAt('network')?.enum, [...keyAt('network')!.enumValues!, null]);
    assert.deepEqual(propertyAt('target')?.enum, [...keyAt('target')!.enumValues!, null]);
    for (const k of runConfigKeys()) {
      const property = propertyAt(k.path)!;
      const allowsNull =
        (Array.isArray(property.enum) && property.enum.includes(null)) ||
        (Array.isArray(property.type) && property.type.includes('null')) ||
        (Array.isArray(property.anyOf) && property.anyOf.some((s: { type?: unknown }) => s.type === 'null'));
      assert.ok(allowsNull, k.path);
    }
  });

  it('spells durations, sizes and scripts with the parser\'s grammar', () => {
    const duration = new RegExp(DURATION_PATTERN);
    for (const s of ['90', '90s', '1h30m', '1h 30m 15s', '1.5h', '2 hours', '10 min', '1H30M', ' 30m ', '', 'soon', '30x', 'm30', '30m1h', '1h1h', '1h 30', '100ms', '-5s', '1hm']) {
      assert.equal(duration.test(s), parseDuration(s) !== undefined, `duration ${JSON.stringify(s)}`);
    }
    const size = new RegExp(MEMORY_PATTERN);
    for (const s of ['1024', '1024b', '512m', '2GiB', '512 MB', '2gb', '1.5g', '12 parsecs', '', 'm', '512ib', '512x', '-1g', '1e9']) {
      assert.equal(size.test(s), parseMemory(s) !== undefined, `size ${JSON.stringify(s)}`);
    }
    const script = new RegExp(propertyAt('script')!.pattern as string);
    for (const s of ['train.py', 'iris/train.py', 'iris\\train.py', './a//b.py', 'my dir/train #1.py', '/abs/train.py', ' /abs.py', 'C:\\x.py', '../x.py', 'a/../../x.py', 'a\\..\\x.py', 'train.sh', '  ', 'a/..py']) {
      const accepted = parseRunConfigDocument('t', 't.yaml', `script: ${JSON.stringify(s)}\n`).problems.length === 0;
      assert.equal(script.test(s), accepted, `script ${JSON.stringify(s)}`);
    }
  });

  it('is committed as generated from the table', () => {
    const committed = path.join(REPO_ROOT, RUNCONFIG_SCHEMA_FILE);
    const actual = fs.existsSync(committed) ? fs.readFileSync(committed, 'utf8') : '(missing)';
    assert.ok(
      actual === runConfigJsonSchemaText(),
      `${RUNCONFIG_SCHEMA_FILE} differs from what the key table generates; run \`npm run schemas\` and commit the result`,
    );
  });
});
