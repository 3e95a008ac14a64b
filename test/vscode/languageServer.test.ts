import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WorkbenchApi } from '../../src/extension';
import { completedRunRecord } from '../harness/runFixtures';
import { activateExtension, openScript, store, waitFor, waitForEnd, workspaceRoot } from './helpers';

const BAD_CONFIG = [
  'script: scripts/helo.py', // 0
  'timout: 1h', //              1
  'resources:', //              2
  '  memory: 2 gigs', //        3
  '  cpus: 0', //               4
  'network: host', //           5
  '',
].join('\n');

function writeConfig(name: string, text: string): vscode.Uri {
  const file = path.join(workspaceRoot(), '.mlw', 'runconfigs', `${name}.yaml`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return vscode.Uri.file(file);
}

const ours = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'ML Workbench');
const at = (r: vscode.Range) => [r.start.line, r.start.character, r.end.line, r.end.character];

describe('Language support for run configurations (real VS Code)', () => {
  let api: WorkbenchApi;

  before(async () => {
    api = await activateExtension();
  });

  it('lists a config\'s problems in the Problems view, with exact ranges, once the document opens', async () => {
    const uri = writeConfig('lsp-bad', BAD_CONFIG);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const diagnostics = await waitFor('diagnostics of lsp-bad.yaml', async () => {
      const list = ours(uri);
      return list.length >= 5 ? list : undefined;
    }, 60_000);
    const seen = diagnostics.map((d) => [d.message, d.severity, ...at(d.range)]).sort();
    assert.deepEqual(seen, [
      ['network: "host" is not allowed; use "bridge" (the default) or "none" (no network access)', vscode.DiagnosticSeverity.Error, 5, 9, 5, 13],
      ['resources.cpus: must be a number of CPUs greater than 0, like 1.5, not 0', vscode.DiagnosticSeverity.Error, 4, 8, 4, 9],
      ['resources.memory: "2 gigs" is not a size; use a number of bytes or a suffix like 512m or 2g', vscode.DiagnosticSeverity.Error, 3, 10, 3, 16],
      ['script: "scripts/helo.py" does not exist in the workspace folder', vscode.DiagnosticSeverity.Error, 0, 8, 0, 23],
      ['timout: unknown key; did you mean "timeout"?', vscode.DiagnosticSeverity.Error, 1, 0, 1, 6],
    ]);

    // Quick fixes for the misspelt key and the missing script.
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, new vscode.Range(0, 0, 6, 0))) ?? [];
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Change to "timeout"'), titles.join(', '));
    assert.ok(titles.includes('Use scripts/hello.py'), titles.join(', '));
    assert.ok(titles.includes('Change to 2g'), titles.join(', '));

    // "Pick a script…" runs the extension's picker (given the choice here) and rewrites the value.
    const pick = actions.find((a) => a.title === 'Pick a script…');
    assert.ok(pick?.command, titles.join(', '));
    const picked = await vscode.commands.executeCommand(pick.command.command, ...(pick.command.arguments ?? []), 'scripts/metrics.py');
    assert.equal(picked, 'scripts/metrics.py');
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.lineAt(0).text, 'script: scripts/metrics.py');
    await waitFor('the script problem to go', async () => (ours(uri).length === 4 ? true : undefined), 30_000);
    await doc.save();

    // Creating the script the config names clears "does not exist" without touching the config.
    const later = writeConfig('lsp-later', 'script: scripts/later.py\n');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(later));
    await waitFor('the missing script problem', async () => (ours(later).length === 1 ? true : undefined), 30_000);
    fs.writeFileSync(path.join(workspaceRoot(), 'scripts', 'later.py'), 'print("later")\n');
    try {
      await waitFor('the problem to go once the script exists', async () => (ours(later).length === 0 ? true : undefined), 30_000);
    } finally {
      fs.rmSync(path.join(workspaceRoot(), 'scripts', 'later.py'), { force: true });
    }
  });

  it('completes keys, values and workspace scripts, and hovers with documentation', async () => {
    const uri = writeConfig('lsp-complete', 'script: \nnetwork: \ntim\n');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    await api.runConfigLanguage.start();
    const complete = async (line: number, character: number) => {
      const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(line, character));
      return list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    };
    const keys = await waitFor('key completion', async () => {
      const labels = await complete(2, 3);
      return labels.includes('timeout') ? labels : undefined;
    }, 30_000);
    assert.ok(keys.includes('resources') && keys.includes('image'), keys.join(', '));
    assert.ok(!keys.includes('network'), 'keys already written are not offered again');
    const network = await complete(1, 9);
    assert.ok(network.includes('bridge') && network.includes('none'), network.join(', '));
    const scripts = await complete(0, 8);
    assert.ok(scripts.includes('scripts/hello.py') && scripts.includes('scripts/metrics.py'), scripts.join(', '));

    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(1, 3));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');
    assert.match(text, /\*\*network\*\*/);
    assert.match(text, /Network access of the script/);
  });

  it('hovers on image: with the local image\'s size and date, and warns about an image the engine does not have', async () => {
    const baseImage = vscode.workspace.getConfiguration('mlw').get<string>('baseImage')!;
    const uri = writeConfig('lsp-image', `image: ${baseImage}\n`);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const text = await waitFor('the image hover', async () => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(0, 9));
      const value = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');
      return value.includes('created') ? value : undefined;
    }, 30_000);
    assert.ok(text.startsWith(`**${baseImage}** · `), text);
    assert.match(text, / · \d+(\.\d)? (MB|GB) · created \d{4}-\d{2}-\d{2}/);
    assert.deepEqual(ours(uri), []);

    const missing = writeConfig('lsp-image-missing', 'image: mlw-test/not-there:never\n');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(missing));
    const [warning] = await waitFor('the missing image warning', async () => (ours(missing).length ? ours(missing) : undefined), 30_000);
    assert.equal(warning.severity, vscode.DiagnosticSeverity.Warning);
    assert.deepEqual(at(warning.range), [0, 7, 0, 31]);
  });

  it('survives a crash: the client restarts the server, which checks the open config again', async () => {
    const client = await api.runConfigLanguage.start();
    const { pid } = await client.sendRequest<{ pid: number }>('mlw/serverProcess');
    const uri = writeConfig('lsp-crash', 'network: host\n');
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    await waitFor('diagnostics before the crash', async () => (ours(uri).length === 1 ? true : undefined), 30_000);
    process.kill(pid, 'SIGKILL');
    const restarted = await waitFor('a new server process', async () => {
      if (!client.isRunning()) return undefined;
      const next = await client.sendRequest<{ pid: number }>('mlw/serverProcess').catch(() => undefined);
      return next && next.pid !== pid ? next.pid : undefined;
    }, 60_000);
    assert.notEqual(restarted, pid);
    await editor.edit((e) => e.replace(new vscode.Range(0, 9, 0, 13), 'nonee'));
    const after = await waitFor('diagnostics from the restarted server', async () => {
      const list = ours(uri);
      return list.length === 1 && list[0].message.includes('"nonee"') ? list : undefined;
    }, 30_000);
    assert.deepEqual(at(after[0].range), [0, 9, 0, 14]);
  });

  it('shows a CodeLens with the run count and the best metric above a script after two runs', async () => {
    const root = workspaceRoot();
    fs.mkdirSync(path.join(root, 'lens'), { recursive: true });
    fs.writeFileSync(path.join(root, 'lens', 'train.py'), 'import os\n\nimport mlw\n\nmlw.log_metric("accuracy", float(os.environ["ACC"]), goal="max")\n');
    writeConfig('lens-a', 'script: lens/train.py\nenv:\n  ACC: "0.973"\n');
    writeConfig('lens-b', 'script: lens/train.py\nenv:\n  ACC: "0.9"\n');
    const uri = await openScript('lens/train.py');
    for (const config of ['lens-a', 'lens-b']) {
      const result = (await vscode.commands.executeCommand('mlw.runAsExperimentWithConfig', uri, config)) as { runId?: string; error?: string };
      assert.ok(result.runId, `run started (${result.error})`);
      const run = await waitForEnd(result.runId!);
      assert.equal(run.status, 'Completed', run.reason);
    }
    const titles = await waitFor('the CodeLens to show both runs', async () => {
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
      const t = lenses.map((l) => l.command?.title ?? '');
      return t.includes('2 runs · best accuracy 0.973') ? t : undefined;
    }, 30_000);
    assert.deepEqual(titles, ['▶ Run as Experiment', '2 runs · best accuracy 0.973']);

    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    const script = await vscode.commands.executeCommand(lenses[1].command!.command, ...(lenses[1].command!.arguments ?? []));
    assert.equal(script, 'lens/train.py');
    assert.deepEqual(api.runsView.provider.filter, { text: 'lens/train.py' });
    await vscode.commands.executeCommand('mlw.clearRunFilter');

    // A run written by another process (its own store, as the CLI has): heard through the folder's watch, which
    // the visible script holds even with the Runs view hidden.
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await waitFor('the Runs view to be hidden', async () => (!api.runsView.view.visible ? true : undefined), 10_000);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    assert.ok(api.workspaceRuns.forUri(uri)?.watched, 'the visible script with lenses watches its folder');
    await store().create(completedRunRecord(`20261201-000000-lens${Date.now() % 10_000}`, { script: 'lens/train.py', metrics: { accuracy: 0.99 } }));
    await waitFor('the CodeLens to count the other process\'s run', async () => {
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
      return lenses.some((l) => l.command?.title === '3 runs · best accuracy 0.99') ? true : undefined;
    }, 30_000);

    const config = vscode.workspace.getConfiguration('mlw');
    await config.update('codeLens.enabled', false, vscode.ConfigurationTarget.Workspace);
    try {
      const off = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
      assert.deepEqual(off, []);
    } finally {
      await config.update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
