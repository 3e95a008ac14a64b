/**
 * The run configuration language server over the LSP protocol: dist/languageServer.js started with --stdio,
 * as another editor would, driven by a JSON-RPC connection. Ranges are exact (0-based, as LSP sends them).
 */
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageConnection, StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import type { CodeAction, CompletionItem, Diagnostic, Hover, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { parseRunConfig } from '../../src/model/runconfig/runConfig';
import { docker, tempDir, testBaseImage, write } from './support';

const SERVER = path.resolve(__dirname, '../../../dist/languageServer.js');

class Server {
  readonly process: ChildProcess;
  readonly connection: MessageConnection;
  private readonly published = new Map<string, PublishDiagnosticsParams[]>();
  private readonly waiters: Array<() => void> = [];
  stderr = '';

  constructor() {
    this.process = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stderr!.on('data', (d) => (this.stderr += d));
    this.connection = createMessageConnection(new StreamMessageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!));
    this.connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.published.set(p.uri, [...(this.published.get(p.uri) ?? []), p]);
      this.waiters.splice(0).forEach((w) => w());
    });
    this.connection.onNotification('window/logMessage', () => undefined);
    this.connection.listen();
  }

  async initialize(rootUri: string, dockerHost = ''): Promise<{ capabilities: Record<string, unknown> }> {
    const result = await this.connection.sendRequest<{ capabilities: Record<string, unknown> }>('initialize', {
      processId: process.pid,
      rootUri,
      capabilities: {},
      initializationOptions: { dockerHost },
    });
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  async open(uri: string, text: string): Promise<void> {
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
  }

  /** The first diagnostics published for `uri` after `count` earlier ones. */
  async diagnostics(uri: string, count = 0, timeoutMs = 20_000): Promise<Diagnostic[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = this.published.get(uri) ?? [];
      if (list.length > count) return list[count].diagnostics;
      if (Date.now() > deadline) throw new Error(`no diagnostics for ${uri} within ${timeoutMs} ms; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  request<T>(method: string, params: unknown): Promise<T> {
    return this.connection.sendRequest<T>(method, params);
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.request('shutdown', null), new Promise((r) => setTimeout(r, 2000))]);
      await this.connection.sendNotification('exit');
    } catch {
      // Already gone.
    }
    this.connection.dispose();
    this.process.kill();
  }
}

const range = (sl: number, sc: number, el: number, ec: number) => ({ start: { line: sl, character: sc }, end: { line: el, character: ec } });
const brief = (ds: Diagnostic[]) => ds.map((d) => ({ message: d.message, severity: d.severity, range: d.range }));

/** The offline test image when the engine has it: any other tag on a shared engine may be another test's, come and gone. */
async function localTestImage(): Promise<string | undefined> {
  const tags = (await docker.listImages().catch(() => [])).flatMap((i) => i.RepoTags ?? []);
  return tags.includes(testBaseImage()) ? testBaseImage() : undefined;
}

describe('Language server (run configurations, over LSP)', function () {
  let server: Server;
  let root: string;
  const uriOf = (name: string) => pathToFileURL(path.join(root, '.mlw', 'runconfigs', name)).toString();

  before(async () => {
    root = tempDir('mlw-lsp-');
    write(root, 'iris/train.py', 'print(1)\n');
    write(root, 'iris/evaluate.py', 'print(2)\n');
    write(root, 'tools/prep.py', 'print(3)\n');
    server = new Server();
    const init = await server.initialize(pathToFileURL(root).toString());
    assert.ok(init.capabilities.hoverProvider);
    assert.ok(init.capabilities.completionProvider);
    assert.ok(init.capabilities.codeActionProvider);
  });

  after(async () => {
    await server?.stop();
  });

  it('publishes every problem at once, with exact ranges: unknown keys, wrong level, types, sizes, timeouts, missing script', async () => {
    const uri = uriOf('bad.yaml');
    const text = [
      'script: iris/trian.py', // 0
      'timout: 1h', //            1
      'memory: 2g', //            2
      'resources:', //            3
      '  cpus: many', //          4
      '  memory: 2 gigs', //      5
      'timeout: 0', //            6
      'network: host', //         7
      '',
    ].join('\n');
    await server.open(uri, text);
    const diagnostics = await server.diagnostics(uri);
    assert.deepEqual(brief(diagnostics), [
      { message: 'timout: unknown key; did you mean "timeout"?', severity: 1, range: range(1, 0, 1, 6) },
      { message: 'memory: unknown key; "memory" goes under "resources:"', severity: 1, range: range(2, 0, 2, 6) },
      { message: 'resources.cpus: must be a number of CPUs greater than 0, like 1.5, not "many"', severity: 1, range: range(4, 8, 4, 12) },
      { message: 'resources.memory: "2 gigs" is not a size; use a number of bytes or a suffix like 512m or 2g', severity: 1, range: range(5, 10, 5, 16) },
      { message: 'timeout: must be greater than 0, not 0', severity: 1, range: range(6, 9, 6, 10) },
      { message: 'network: "host" is not allowed; use "bridge" (the default) or "none" (no network access)', severity: 1, range: range(7, 9, 7, 13) },
      { message: 'script: "iris/trian.py" does not exist in the workspace folder', severity: 1, range: range(0, 8, 0, 21) },
    ]);
    assert.ok(diagnostics.every((d) => d.source === 'ML Workbench'));

    const actions = await server.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: range(0, 0, 8, 0),
      context: { diagnostics },
    });
    const fixes = actions.map((a) => ({ title: a.title, edit: a.edit?.changes?.[uri]?.[0] }));
    assert.deepEqual(fixes.find((f) => f.title === 'Change to "timeout"')?.edit, { range: range(1, 0, 1, 6), newText: 'timeout' });
    assert.deepEqual(fixes.find((f) => f.title === 'Change to 2g')?.edit, { range: range(5, 10, 5, 16), newText: '2g' });
    // The missing script: the workspace's scripts to pick from, the likeliest first.
    const scripts = fixes.filter((f) => f.title.startsWith('Use '));
    assert.deepEqual(scripts.map((f) => f.title), ['Use iris/train.py', 'Use iris/evaluate.py', 'Use tools/prep.py']);
    assert.deepEqual(scripts[0].edit, { range: range(0, 8, 0, 21), newText: 'iris/train.py' });
    const pick = actions.find((a) => a.title === 'Pick a script…');
    assert.deepEqual(pick?.command, { title: 'Pick a script…', command: 'mlw.pickRunConfigScript', arguments: [uri, range(0, 8, 0, 21)] });
  });

  it('gives the same first problem as the runner and `mlw run --config` (parseRunConfig)', async () => {
    const uri = uriOf('first.yaml');
    const text = 'script: iris/train.py\nresources:\n  gpus: -1\n';
    await server.open(uri, text);
    const [first] = await server.diagnostics(uri);
    assert.throws(() => parseRunConfig('first', 'first.yaml', text), (err: Error) => err.message === `first.yaml: ${first.message}`);
  });

  it('reports a syntax error alone, and a valid file with an existing script has no problems', async () => {
    const broken = uriOf('broken.yaml');
    await server.open(broken, 'script: [iris/train.py\n');
    const syntax = await server.diagnostics(broken);
    assert.equal(syntax.length, 1);
    assert.match(syntax[0].message, /^line \d+, column \d+: /);
    const good = uriOf('good.yaml');
    await server.open(good, 'script: iris/train.py\nargs: [--epochs, 3]\nresources:\n  memory: 2g\ntimeout: 30m\n');
    assert.deepEqual(await server.diagnostics(good), []);
  });

  it('checks the script again when the client reports workspace files changed', async () => {
    const uri = uriOf('later.yaml');
    await server.open(uri, 'script: tools/later.py\n');
    assert.equal((await server.diagnostics(uri, 0)).length, 1);
    write(root, 'tools/later.py', 'print(4)\n');
    await server.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(path.join(root, 'tools/later.py')).toString(), type: 1 }] });
    assert.deepEqual(await server.diagnostics(uri, 1), []);
    fs.rmSync(path.join(root, 'tools/later.py'));
  });

  it('completes keys with documentation, nested keys, enum values and workspace scripts', async () => {
    const uri = uriOf('complete.yaml');
    const text = 'script: \nnet\nresources:\n  m\nnetwork: \n';
    await server.open(uri, text);
    await server.diagnostics(uri);
    const at = (line: number, character: number) => server.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line, character } });

    const top = await at(1, 3);
    // "script" and "resources" and "network" are written already; the rest are offered, in the table's order.
    assert.deepEqual(top.map((i) => i.label), ['args', 'env', 'image', 'target', 'timeout']);
    const timeout = top.find((i) => i.label === 'timeout')!;
    assert.deepEqual(timeout.textEdit, { range: range(1, 0, 1, 3), newText: 'timeout: ' });
    assert.match((timeout.documentation as { value: string }).value, /Stop the run after this long/);

    const nested = await at(3, 3);
    assert.deepEqual(nested.map((i) => i.label), ['cpus', 'memory', 'gpus', 'pids', 'outputs', 'logs', 'tracking']);

    const network = await at(4, 9);
    assert.deepEqual(network.map((i) => i.label), ['bridge', 'none']);

    const scripts = await at(0, 8);
    assert.deepEqual(scripts.map((i) => i.label), ['iris/evaluate.py', 'iris/train.py', 'tools/prep.py']);
    assert.deepEqual(scripts[1].textEdit, { range: range(0, 8, 0, 8), newText: 'iris/train.py' });
  });

  it('hovers with the documentation of every key, and the size and date of a local image; completes local image tags', async function () {
    const uri = uriOf('hover.yaml');
    const local = await localTestImage();
    const text = `timeout: 1h\nresources:\n  memory: 2g\nimage: ${local ?? 'python:3.12-slim'}\n`;
    await server.open(uri, text);
    const hoverAt = (line: number, character: number) => server.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line, character } });

    const timeout = await hoverAt(0, 2);
    assert.deepEqual(timeout?.range, range(0, 0, 0, 7));
    assert.match((timeout?.contents as { value: string }).value, /^\*\*timeout\*\*: duration/);
    const memory = await hoverAt(2, 11);
    assert.deepEqual(memory?.range, range(2, 10, 2, 12));
    assert.match((memory?.contents as { value: string }).value, /\*\*resources\.memory\*\*/);
    assert.equal(await hoverAt(4, 0), null);

    if (!local) return this.skip();
    const completion = await server.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 3, character: 7 } });
    assert.ok(completion.some((i) => i.label === local && i.detail === 'local image'), 'local image tags are offered for image:');
    const image = await hoverAt(3, 8);
    const info = await docker.getImage(local).inspect();
    const value = (image?.contents as { value: string }).value;
    assert.ok(value.startsWith(`**${local}** · `), value);
    assert.ok(value.includes(`created ${info.Created.slice(0, 10)}`), value);
    assert.match(value, / · \d+(\.\d)? (MB|GB) · /);
  });

  it('warns about an image the engine does not have', async () => {
    const uri = uriOf('image.yaml');
    await server.open(uri, 'image: mlw-test/not-there:never\n');
    const diagnostics = await server.diagnostics(uri);
    assert.deepEqual(brief(diagnostics), [{
      message: 'image: "mlw-test/not-there:never" is not on the Docker engine; a run refuses it until you pull it ("docker pull mlw-test/not-there:never") or build it',
      severity: 2,
      range: range(0, 7, 0, 31),
    }]);
  });

  it('says nothing about images when Docker does not answer', async () => {
    const offline = new Server();
    try {
      await offline.initialize(pathToFileURL(root).toString(), 'unix:///nonexistent/docker.sock');
      const uri = uriOf('no-docker.yaml');
      await offline.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text: 'image: mlw-test/not-there:never\n' } });
      assert.deepEqual(await offline.diagnostics(uri), []);
      const hover = await offline.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 10 } });
      assert.match((hover?.contents as { value: string }).value, /^\*\*image\*\*: string/);
    } finally {
      await offline.stop();
    }
  });

  it("leaves workspaces' hold tags (mlw-env:<hash>.ws-<key>) out of the image completions", async function () {
    const local = await localTestImage();
    if (!local) return this.skip();
    // A hold on an image this test does not own is only a tag, removed by its exact name after.
    const key = `${process.pid.toString(16).padStart(6, '0')}${Date.now().toString(16).slice(-6)}`;
    const hold = { repo: 'mlw-env', tag: `00000000${key.slice(0, 8)}.ws-${key.padEnd(12, '0')}` };
    await docker.getImage(local).tag(hold);
    const fresh = new Server();
    try {
      await fresh.initialize(pathToFileURL(root).toString());
      const uri = uriOf('holds.yaml');
      await fresh.open(uri, 'image: \n');
      const offered = (await fresh.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 0, character: 7 } })).map((i) => i.label);
      assert.ok(offered.includes(local), JSON.stringify(offered));
      assert.ok(!offered.includes(`${hold.repo}:${hold.tag}`), 'the hold tag is not offered');
    } finally {
      await fresh.stop();
      await docker.getImage(`${hold.repo}:${hold.tag}`).remove().catch(() => undefined);
    }
  });

  it('survives a 5 MB document and binary content, and still answers afterwards', async () => {
    const big = uriOf('big.yaml');
    const started = Date.now();
    await server.open(big, 'env:\n' + '  K: "value"\n'.repeat(400_000));
    const tooLarge = await server.diagnostics(big);
    assert.equal(tooLarge.length, 1);
    assert.equal(tooLarge[0].message, 'This file is 5.0 MB, too large to be a run configuration (they are a few lines), so the editor does not check it; `mlw run --config` still does.');
    assert.equal(tooLarge[0].severity, 2);
    const binary = uriOf('binary.yaml');
    await server.open(binary, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1'));
    const problems = await server.diagnostics(binary);
    assert.ok(problems.length >= 1);
    const hover = await server.request<Hover | null>('textDocument/hover', { textDocument: { uri: binary }, position: { line: 0, character: 3 } });
    assert.ok(hover === null || typeof hover === 'object');
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    const again = uriOf('again.yaml');
    await server.open(again, 'timout: 1h\n');
    assert.equal((await server.diagnostics(again))[0].message, 'timout: unknown key; did you mean "timeout"?');
  });

  it('re-checks on change, and clears problems when the document closes', async () => {
    const uri = uriOf('edit.yaml');
    await server.open(uri, 'network: host\n');
    assert.equal((await server.diagnostics(uri, 0)).length, 1);
    await server.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: range(0, 9, 0, 13), text: 'none' }],
    });
    assert.deepEqual(await server.diagnostics(uri, 1), []);
    await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: uriOf('other.txt'), languageId: 'yaml', version: 1, text: 'x' } });
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    assert.deepEqual(await server.diagnostics(uri, 2), []);
  });
});

describe('Language server packaging (the extension bundle)', () => {
  const dist = path.resolve(__dirname, '../../../dist');

  it('keeps the language client out of dist/extension.js, required once, when a run configuration opens', () => {
    const extension = fs.readFileSync(path.join(dist, 'extension.js'), 'utf8');
    // A message of the client library, a string literal, so it survives a minified (--production) build too.
    const marker = 'Client is not running';
    assert.ok(!extension.includes(marker), 'vscode-languageclient is bundled into the extension itself');
    assert.equal(extension.split('require("./languageClient.js")').length - 1, 1);
    assert.ok(fs.readFileSync(path.join(dist, 'languageClient.js'), 'utf8').includes(marker));
  });

  it('ships the server and the client in the package (.vscodeignore)', () => {
    const ignore = fs.readFileSync(path.resolve(dist, '..', '.vscodeignore'), 'utf8').split('\n');
    assert.ok(ignore.includes('!dist/languageServer.js'));
    assert.ok(ignore.includes('!dist/languageClient.js'));
  });
});
