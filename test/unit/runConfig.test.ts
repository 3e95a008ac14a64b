import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserFacingError } from '../../src/model/common/errors';
import {
  RUNCONFIG_DIR,
  RunConfig,
  RunConfigError,
  defaultRunConfig,
  listRunConfigs,
  loadRunConfig,
  parseDuration,
  parseMemory,
  parseRunConfig,
  runConfigTemplate,
  saveRunConfig,
} from '../../src/model/runconfig/runConfig';

const FILE = '.mlw/runconfigs/fast.yaml';

function parse(text: string): RunConfig {
  return parseRunConfig('fast', FILE, text);
}

/** Asserts that `text` is refused with exactly this key, and a reason matching `reason`; returns the error. */
function refused(text: string, key: string, reason: RegExp | string): RunConfigError {
  let caught: unknown;
  try {
    parse(text);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof RunConfigError, `expected a RunConfigError for ${JSON.stringify(text)}, got ${String(caught)}`);
  assert.ok(caught instanceof UserFacingError);
  assert.equal(caught.file, FILE);
  assert.equal(caught.key, key, caught.message);
  if (typeof reason === 'string') assert.equal(caught.reason, reason);
  else assert.match(caught.reason, reason);
  assert.equal(caught.message, `${FILE}: ${key}: ${caught.reason}`);
  return caught;
}

describe('run configurations: parsing', () => {
  it('parses the documented example into every field', () => {
    const config = parse(`# ML Workbench run configuration
script: iris/train.py
args: ["--C", "0.5"]
env:
  SEED: "42"
image: my/image:tag
target: local
resources:
  cpus: 1.5
  memory: 512m
  gpus: 0
timeout: 30m
network: bridge
`);
    assert.deepEqual(config, {
      name: 'fast',
      file: FILE,
      script: 'iris/train.py',
      args: ['--C', '0.5'],
      env: { SEED: '42' },
      image: 'my/image:tag',
      target: 'local',
      resources: { cpus: 1.5, memoryBytes: 512 * 1024 * 1024 },
      timeoutSeconds: 1800,
      network: 'bridge',
    });
  });

  it('gives the default config (with the name and file) for an empty or comment-only file', () => {
    for (const text of ['', '\n\n', '# nothing set yet\n', '---\n']) {
      assert.deepEqual(parse(text), { ...defaultRunConfig(), name: 'fast', file: FILE }, JSON.stringify(text));
    }
    assert.deepEqual(defaultRunConfig(), {
      name: 'default',
      file: '',
      args: [],
      env: {},
      target: 'local',
      resources: {},
      network: 'bridge',
    });
    // Each call is a fresh object: callers may mutate theirs.
    defaultRunConfig().args.push('x');
    assert.deepEqual(defaultRunConfig().args, []);
  });

  it('treats a key with no value as not set', () => {
    const config = parse('script:\nargs:\nenv:\nimage:\ntarget:\nresources:\ntimeout:\nnetwork:\n');
    assert.deepEqual(config, { ...defaultRunConfig(), name: 'fast', file: FILE });
    assert.deepEqual(parse('resources:\n  cpus:\n  memory: 1g\n').resources, { memoryBytes: 1024 ** 3 });
  });

  it('reports YAML syntax errors with the line and column from the parser', () => {
    const unclosed = refused('script: train.py\nargs: ["--a", "1"\nnetwork: none\n', 'line 3, column 1', /Flow sequence|]/);
    assert.deepEqual(unclosed.position, { line: 3, column: 1 });
    const duplicate = refused('timeout: 1h\nimage: x\ntimeout: 2h\n', 'line 3, column 1', /unique/);
    assert.deepEqual(duplicate.position, { line: 3, column: 1 });
    refused('a: b: c\n', 'line 1, column 4', /Nested mappings/);
    refused('args: []\n---\nargs: []\n', 'line 2, column 1', 'a run configuration is a single YAML document; remove the second "---"');
  });

  it('requires a mapping at the top level', () => {
    refused('- train.py\n- --epochs\n', '(top level)', /must be a mapping .* not a list/);
    refused('train.py\n', '(top level)', /must be a mapping .* not "train.py"/);
  });

  it('refuses unknown keys, suggesting the closest known one', () => {
    refused('timout: 1h\n', 'timout', 'unknown key; did you mean "timeout"?');
    refused('Network: none\n', 'Network', 'unknown key; did you mean "network"?');
    refused('environment:\n  A: 1\n', 'environment', 'unknown key; did you mean "env"?');
    refused('memory: 2g\n', 'memory', 'unknown key; "memory" goes under "resources:"');
    refused('flavour: large\n', 'flavour', 'unknown key; known keys are script, args, env, image, target, resources, timeout, network');
    const err = refused('script: a.py\n\nimgae: x\n', 'imgae', 'unknown key; did you mean "image"?');
    assert.deepEqual(err.position, { line: 3, column: 1 });
  });

  it('refuses unknown keys under resources, with the dotted key path', () => {
    refused('resources:\n  gpu: 1\n', 'resources.gpu', 'unknown key; did you mean "gpus"?');
    refused('resources:\n  mem: 1g\n', 'resources.mem', 'unknown key; did you mean "memory"?');
    refused('resources:\n  timeout: 1h\n', 'resources.timeout', 'unknown key; "timeout" is a top-level key, not under "resources:"');
    refused('resources:\n  disk: 10g\n', 'resources.disk', 'unknown key; known keys are cpus, memory, gpus, pids, outputs, logs, tracking');
    refused('resources: 4\n', 'resources', /must be a mapping with cpus, memory, gpus, pids, outputs, logs and\/or tracking, not 4/);
  });

  it('checks script: a workspace-relative .py path without ".."', () => {
    refused('script: /home/me/train.py\n', 'script', /"\/home\/me\/train.py" is absolute; give a path relative to the workspace folder/);
    refused('script: C:\\work\\train.py\n', 'script', /is absolute/);
    refused('script: ../other/train.py\n', 'script', /leaves the workspace folder; "\.\." is not allowed/);
    refused('script: iris/../../train.py\n', 'script', /leaves the workspace folder/);
    refused('script: iris/train.sh\n', 'script', '"iris/train.sh" is not a Python script; the path must end with .py');
    refused('script: 12\n', 'script', /must be a path relative to the workspace folder, like iris\/train.py, not 12/);
    refused('script: "  "\n', 'script', /is empty/);
    refused('script: [a.py]\n', 'script', /not a list/);
    assert.equal(parse('script: iris\\train.py\n').script, 'iris/train.py');
    assert.equal(parse('script: ./iris//train.py\n').script, 'iris/train.py');
    assert.equal(parse('script: "my dir/train #1.py"\n').script, 'my dir/train #1.py');
  });

  it('checks args: a list of strings (numbers converted as written) or one string split on whitespace', () => {
    assert.deepEqual(parse('args: ["--lr", 0.50, --epochs, 3, --fast, true, 1e-3]\n').args, [
      '--lr',
      '0.50',
      '--epochs',
      '3',
      '--fast',
      'true',
      '1e-3',
    ]);
    assert.deepEqual(parse('args: "--epochs 3\t --lr  0.1 "\n').args, ['--epochs', '3', '--lr', '0.1']);
    assert.deepEqual(parse('args:\n  - --name\n  - "my run"\n').args, ['--name', 'my run']);
    assert.deepEqual(parse('args: ""\n').args, []);
    refused('args:\n  epochs: 3\n', 'args', /must be a list of strings, like \["--epochs", "3"\], or one string split on spaces, not a mapping/);
    refused('args: 5\n', 'args', /not 5$/);
    refused('args: ["--a", [1, 2]]\n', 'args[1]', 'must be a string or number, not a list');
    refused('args: ["--a", {b: 1}]\n', 'args[1]', 'must be a string or number, not a mapping');
    refused('args: ["--a", null]\n', 'args[1]', 'is empty; write "" for an empty argument');
    refused('args: --name "my run"\n', 'args', /contains quotes.*write a list/);
  });

  it('checks env: a mapping of names to strings, numbers or booleans', () => {
    assert.deepEqual(parse('env:\n  SEED: 42\n  DEBUG: true\n  NAME: iris\n  RATE: 1.0\n  EMPTY: ""\n').env, {
      SEED: '42',
      DEBUG: 'true',
      NAME: 'iris',
      RATE: '1.0',
      EMPTY: '',
    });
    refused('env: [SEED=1]\n', 'env', /must be a mapping of variable names to values.*not a list/);
    refused('env: SEED=1\n', 'env', /not "SEED=1"/);
    refused('env:\n  SEED:\n    value: 1\n', 'env.SEED', 'must be a string, number or true/false, not a mapping');
    refused('env:\n  PATHS: [a, b]\n', 'env.PATHS', 'must be a string, number or true/false, not a list');
    refused('env:\n  SEED:\n', 'env.SEED', 'has no value; write "" for an empty value');
    refused('env:\n  "A=B": 1\n', 'env.A=B', /not a valid environment variable name/);
  });

  it('checks image, target and network', () => {
    assert.equal(parse('image: python:3.12-slim\n').image, 'python:3.12-slim');
    refused('image: [python]\n', 'image', /must be an image reference like python:3.12-slim, not a list/);
    refused('image: "my image"\n', 'image', /must be an image reference/);
    refused('target: cloud\n', 'target', '"cloud" is not available; only "local" (this machine\'s Docker) is available for now');
    refused('target: 3\n', 'target', /only "local"/);
    assert.equal(parse('network: none\n').network, 'none');
    assert.equal(parse('network: bridge\n').network, 'bridge');
    refused('network: host\n', 'network', '"host" is not allowed; use "bridge" (the default) or "none" (no network access)');
    refused('network: false\n', 'network', /false is not allowed/);
  });

  it('checks resources.cpus: a number greater than 0', () => {
    assert.equal(parse('resources:\n  cpus: 2\n').resources.cpus, 2);
    assert.equal(parse('resources:\n  cpus: 0.25\n').resources.cpus, 0.25);
    for (const bad of ['0', '-1', '"2"', 'many', '[1]', '.inf']) {
      refused(`resources:\n  cpus: ${bad}\n`, 'resources.cpus', /must be a number of CPUs greater than 0, like 1.5/);
    }
  });

  it('checks resources.gpus: a non-negative whole number or "all", with 0 meaning none', () => {
    assert.equal(parse('resources:\n  gpus: 2\n').resources.gpus, 2);
    assert.equal(parse('resources:\n  gpus: all\n').resources.gpus, 'all');
    assert.equal(parse('resources:\n  gpus: ALL\n').resources.gpus, 'all');
    assert.deepEqual(parse('resources:\n  gpus: 0\n').resources, {});
    for (const bad of ['-1', '1.5', 'some', '"1"', 'true']) {
      refused(`resources:\n  gpus: ${bad}\n`, 'resources.gpus', /must be a whole number of GPUs \(0 or more\) or "all"/);
    }
  });

  it('checks resources.pids (a whole number, at least 4) and the size caps outputs, logs and tracking', () => {
    assert.deepEqual(parse('resources:\n  pids: 64\n  outputs: 1g\n  logs: 10m\n  tracking: 512k\n').resources, {
      pids: 64,
      outputsBytes: 1024 ** 3,
      logsBytes: 10 * 1024 ** 2,
      trackingBytes: 512 * 1024,
    });
    for (const bad of ['3', '1.5', 'many', '"64"']) {
      refused(`resources:\n  pids: ${bad}\n`, 'resources.pids', /^must be a whole number of processes, at least 4, like 4096, not /);
    }
    refused('resources:\n  outputs: huge\n', 'resources.outputs', '"huge" is not a size; use a number of bytes or a suffix like 100m or 10g');
    refused('resources:\n  logs: 0\n', 'resources.logs', 'must be greater than 0, not 0');
    refused('resources:\n  tracking: [1m]\n', 'resources.tracking', /not a size/);
  });

  it('checks resources.memory: a size of at least 6 MiB', () => {
    assert.equal(parse('resources:\n  memory: 2g\n').resources.memoryBytes, 2 * 1024 ** 3);
    assert.equal(parse('resources:\n  memory: 6m\n').resources.memoryBytes, 6 * 1024 ** 2);
    assert.equal(parse('resources:\n  memory: 1073741824\n').resources.memoryBytes, 1024 ** 3);
    const err = refused('resources:\n  memory: 12 parsecs\n', 'resources.memory', '"12 parsecs" is not a size; use a number of bytes or a suffix like 512m or 2g');
    assert.equal(
      err.message,
      '.mlw/runconfigs/fast.yaml: resources.memory: "12 parsecs" is not a size; use a number of bytes or a suffix like 512m or 2g',
    );
    assert.deepEqual(err.position, { line: 2, column: 11 });
    refused('resources:\n  memory: 5m\n', 'resources.memory', '"5m" is below Docker\'s minimum of 6m (6 MiB)');
    refused('resources:\n  memory: 1024\n', 'resources.memory', /1024 is below Docker's minimum/);
    refused('resources:\n  memory: [1g]\n', 'resources.memory', /not a size/);
  });

  it('checks timeout: a duration greater than 0', () => {
    assert.equal(parse('timeout: 90\n').timeoutSeconds, 90);
    assert.equal(parse('timeout: 1h30m\n').timeoutSeconds, 5400);
    assert.equal(parse('timeout: "2h"\n').timeoutSeconds, 7200);
    refused('timeout: 0\n', 'timeout', 'must be greater than 0, not 0');
    refused('timeout: -5\n', 'timeout', 'must be greater than 0, not -5');
    refused('timeout: 0s\n', 'timeout', 'must be greater than 0, not "0s"');
    refused('timeout: soon\n', 'timeout', '"soon" is not a duration; use a number of seconds or e.g. 90s, 30m, 1h30m, 2h');
    refused('timeout: 30x\n', 'timeout', /"30x" is not a duration/);
    refused('timeout: [1h]\n', 'timeout', /a list is not a duration/);
  });

  it('points the error position at the offending value', () => {
    const err = refused('script: a.py\nresources:\n  cpus: 1\n  gpus: lots\n', 'resources.gpus', /whole number/);
    assert.deepEqual(err.position, { line: 4, column: 9 });
  });
});

describe('run configurations: duration and memory parsing', () => {
  it('parses durations into seconds', () => {
    const table: Array<[unknown, number | undefined]> = [
      [90, 90],
      [1.5, 1.5],
      [0, 0],
      [-5, -5],
      ['90', 90],
      ['90s', 90],
      ['30m', 1800],
      ['2h', 7200],
      ['1h30m', 5400],
      ['1h 30m 15s', 5415],
      ['1.5h', 5400],
      ['1d', 86400],
      ['2 hours', 7200],
      ['10 min', 600],
      ['45 seconds', 45],
      ['1H30M', 5400],
      [' 30m ', 1800],
      ['', undefined],
      ['soon', undefined],
      ['30x', undefined],
      ['m30', undefined],
      ['30m1h', undefined],
      ['1h1h', undefined],
      ['1h 30', undefined],
      ['100ms', undefined],
      ['-5s', undefined],
      [Number.NaN, undefined],
      [Number.POSITIVE_INFINITY, undefined],
      [true, undefined],
      [null, undefined],
      [undefined, undefined],
      [['1h'], undefined],
    ];
    for (const [input, expected] of table) assert.equal(parseDuration(input), expected, `parseDuration(${JSON.stringify(input)})`);
  });

  it('parses memory sizes into bytes, every suffix binary as in Docker', () => {
    const K = 1024;
    const M = K * K;
    const G = K * M;
    const table: Array<[unknown, number | undefined]> = [
      [1024, 1024],
      [1536.7, 1536],
      ['1024', 1024],
      ['1024b', 1024],
      ['100k', 100 * K],
      ['512m', 512 * M],
      ['512M', 512 * M],
      ['2g', 2 * G],
      ['1t', 1024 * G],
      ['1.5g', 1.5 * G],
      ['512KiB', 512 * K],
      ['512 MiB', 512 * M],
      ['2GiB', 2 * G],
      ['1TiB', 1024 * G],
      ['512kb', 512 * K],
      ['512MB', 512 * M],
      ['2gb', 2 * G],
      ['2Gb', 2 * G],
      ['12 parsecs', undefined],
      ['', undefined],
      ['m', undefined],
      ['512ib', undefined],
      ['512x', undefined],
      ['-1g', undefined],
      ['1e9', undefined],
      ['99999999t', undefined],
      [Number.NaN, undefined],
      [true, undefined],
      [null, undefined],
      [{ size: 1 }, undefined],
    ];
    for (const [input, expected] of table) assert.equal(parseMemory(input), expected, `parseMemory(${JSON.stringify(input)})`);
  });
});

describe('run configurations: template', () => {
  it('parses to the default config when no script is given', () => {
    const text = runConfigTemplate();
    assert.match(text, /^# ML Workbench run configuration/);
    assert.match(text, /^# script: /m);
    assert.deepEqual(parseRunConfig('new', 'new.yaml', text), { ...defaultRunConfig(), name: 'new', file: 'new.yaml' });
  });

  it('carries the given script, quoting it when YAML needs that', () => {
    assert.match(runConfigTemplate('iris/train.py'), /^script: iris\/train.py$/m);
    for (const [script, expected] of [
      ['iris/train.py', 'iris/train.py'],
      ['my dir/train #1.py', 'my dir/train #1.py'],
      ['x/a: b "odd".py', 'x/a: b "odd".py'],
      ['iris\\train.py', 'iris/train.py'],
    ]) {
      assert.equal(parseRunConfig('t', 't.yaml', runConfigTemplate(script)).script, expected, script);
    }
  });

  it('documents every setting with an example that is valid once uncommented', () => {
    const text = runConfigTemplate('train.py');
    for (const key of ['script', 'args', 'env', 'image', 'target', 'resources', 'cpus', 'memory', 'gpus', 'timeout', 'network']) {
      assert.match(text, new RegExp(`^#?\\s*${key}:`, 'm'), key);
    }
    // Uncomment (as an editor's toggle-comment does: drop "# ") every example setting except the alternative
    // args line, which would repeat the key.
    const uncommented = text
      .split('\n')
      .map((line) => (/^#\s*(SEED|image|cpus|memory|gpus|timeout):/.test(line) ? line.replace(/^# /, '') : line))
      .join('\n');
    assert.deepEqual(parseRunConfig('t', 't.yaml', uncommented), {
      ...defaultRunConfig(),
      name: 't',
      file: 't.yaml',
      script: 'train.py',
      env: { SEED: '42' },
      image: 'python:3.12-slim',
      resources: { cpus: 1.5, memoryBytes: 2 * 1024 ** 3 },
      timeoutSeconds: 3600,
    });
    const altArgs = text.split('\n').find((line) => line.startsWith('# args:'));
    assert.ok(altArgs);
    assert.deepEqual(parseRunConfig('t', 't.yaml', altArgs.slice(2)).args, ['--epochs', '3', '--lr', '0.01']);
  });
});

describe('run configurations: files', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlw-runconfig-'));
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });
  const dir = () => path.join(root, RUNCONFIG_DIR);

  it('lists nothing and loads nothing when the folder does not exist', async () => {
    assert.deepEqual(await listRunConfigs(root), []);
    assert.equal(await loadRunConfig(root, 'default'), undefined);
  });

  it('saves, loads and lists configs', async () => {
    const saved = await saveRunConfig(root, 'fast', 'script: iris/train.py\ntimeout: 10m\n');
    assert.equal(saved, path.join(root, '.mlw', 'runconfigs', 'fast.yaml'));
    assert.equal(fs.readFileSync(saved, 'utf8'), 'script: iris/train.py\ntimeout: 10m\n');
    await saveRunConfig(root, 'default', runConfigTemplate());
    fs.writeFileSync(path.join(dir(), 'b-old.yml'), 'network: none\n');
    fs.writeFileSync(path.join(dir(), 'notes.txt'), 'not a config');
    fs.writeFileSync(path.join(dir(), 'has space.yaml'), '');

    assert.deepEqual(await listRunConfigs(root), ['b-old', 'default', 'fast']);
    const fast = await loadRunConfig(root, 'fast');
    assert.deepEqual(fast, {
      ...defaultRunConfig(),
      name: 'fast',
      file: saved,
      script: 'iris/train.py',
      timeoutSeconds: 600,
    });
    assert.equal((await loadRunConfig(root, 'b-old'))?.network, 'none');
    assert.equal((await loadRunConfig(root, 'b-old'))?.file, path.join(dir(), 'b-old.yml'));
    assert.equal(await loadRunConfig(root, 'missing'), undefined);
    assert.deepEqual(fs.readdirSync(dir()).filter((f) => f.endsWith('.tmp')), []);
  });

  it('overwrites an existing .yml in place instead of adding a .yaml beside it', async () => {
    fs.mkdirSync(dir(), { recursive: true });
    fs.writeFileSync(path.join(dir(), 'gpu.yml'), 'network: none\n');
    const saved = await saveRunConfig(root, 'gpu', 'resources:\n  gpus: all\n');
    assert.equal(saved, path.join(dir(), 'gpu.yml'));
    assert.deepEqual(fs.readdirSync(dir()), ['gpu.yml']);
    assert.equal((await loadRunConfig(root, 'gpu'))?.resources.gpus, 'all');
  });

  it('refuses to save an invalid config, naming the workspace-relative file, and writes nothing', async () => {
    await assert.rejects(saveRunConfig(root, 'fast', 'timout: 1h\n'), (err: unknown) => {
      assert.ok(err instanceof RunConfigError);
      assert.equal(err.file, path.join(RUNCONFIG_DIR, 'fast.yaml'));
      assert.equal(err.message, `${path.join(RUNCONFIG_DIR, 'fast.yaml')}: timout: unknown key; did you mean "timeout"?`);
      return true;
    });
    assert.equal(fs.existsSync(path.join(dir(), 'fast.yaml')), false);
  });

  it('reports a broken file on load with its workspace-relative path, not the absolute one', async () => {
    fs.mkdirSync(dir(), { recursive: true });
    fs.writeFileSync(path.join(dir(), 'bad.yaml'), 'resources:\n  memory: 12 parsecs\n');
    await assert.rejects(loadRunConfig(root, 'bad'), (err: unknown) => {
      assert.ok(err instanceof RunConfigError);
      assert.equal(err.key, 'resources.memory');
      assert.ok(err.message.startsWith(`${path.join(RUNCONFIG_DIR, 'bad.yaml')}: resources.memory: `), err.message);
      assert.ok(!err.message.includes(root), err.message);
      return true;
    });
  });

  it('refuses a name with both a .yaml and a .yml file as ambiguous', async () => {
    fs.mkdirSync(dir(), { recursive: true });
    fs.writeFileSync(path.join(dir(), 'twin.yaml'), '');
    fs.writeFileSync(path.join(dir(), 'twin.yml'), '');
    await assert.rejects(loadRunConfig(root, 'twin'), (err: unknown) => err instanceof UserFacingError && /ambiguous; remove one/.test(err.message));
    assert.deepEqual(await listRunConfigs(root), ['twin']);
  });

  it('refuses invalid names on save and load, before touching the disk', async () => {
    for (const name of ['', '../escape', 'a/b', 'has space', '.hidden', '-dash', 'fast.yaml', 'fast.YML']) {
      await assert.rejects(saveRunConfig(root, name, ''), UserFacingError, `save ${JSON.stringify(name)}`);
      await assert.rejects(loadRunConfig(root, name), UserFacingError, `load ${JSON.stringify(name)}`);
    }
    await assert.rejects(saveRunConfig(root, 'fast.yaml', ''), /leave out the extension: use "fast"/);
    assert.equal(fs.existsSync(path.join(root, '.mlw')), false);
    for (const name of ['default', 'v2.1_gpu-big', '0']) assert.ok(fs.existsSync(await saveRunConfig(root, name, '')), name);
  });
});
