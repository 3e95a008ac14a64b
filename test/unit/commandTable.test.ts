import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SETTING_DEFAULTS, resolveSettings } from '../../src/model/common/settings';
import { Commands, ContextKeys, ViewIds } from '../../src/views/common/commandIds';
import { REPO_ROOT } from '../harness/testWorkspace';

const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));

function menuCommands(): string[] {
  const menus = manifest.contributes.menus as Record<string, { command?: string }[]>;
  return Object.values(menus).flat().map((m) => m.command).filter((c): c is string => !!c);
}

describe('the command table', () => {
  const table = Object.values(Commands) as string[];
  const contributed = (manifest.contributes.commands as { command: string }[]).map((c) => c.command);

  it('lists every command package.json contributes, and nothing else', () => {
    assert.deepEqual([...table].sort(), [...contributed].sort());
    assert.equal(new Set(table).size, table.length, 'an id appears twice in the table');
  });

  it('covers every command the menus and keybindings name', () => {
    const named = [...menuCommands(), ...((manifest.contributes.keybindings ?? []) as { command: string }[]).map((k) => k.command)];
    const ours = named.filter((c) => c.startsWith('mlw.'));
    assert.deepEqual(ours.filter((c) => !table.includes(c)), []);
  });

  it('registers each table entry in the composition root, through the one wrapper', () => {
    const root = fs.readFileSync(path.join(REPO_ROOT, 'src', 'extension.ts'), 'utf8');
    for (const [key] of Object.entries(Commands)) assert.match(root, new RegExp(`\\[Commands\\.${key},`), `Commands.${key} is not registered in src/extension.ts`);
    // Inline registrations would bypass the wrapper's error handling.
    const inline = [...fs.readdirSync(path.join(REPO_ROOT, 'src'), { recursive: true, encoding: 'utf8' })]
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /vscode\.commands\.registerCommand\(/.test(fs.readFileSync(path.join(REPO_ROOT, 'src', f), 'utf8')))
      .map((f) => f.split(path.sep).join('/'));
    assert.deepEqual(inline, ['views/common/registerCommand.ts']);
  });

  it('names context keys and views that package.json uses', () => {
    const text = JSON.stringify(manifest.contributes);
    for (const key of Object.values(ContextKeys)) assert.ok(text.includes(key), `context key ${key} is not used in package.json`);
    const views = Object.values(manifest.contributes.views as Record<string, { id: string }[]>).flat().map((v) => v.id);
    for (const id of Object.values(ViewIds)) assert.ok(views.includes(id), `view ${id} is not contributed`);
  });
});

describe('settings read in one place', () => {
  it('has the defaults package.json declares', () => {
    const props = manifest.contributes.configuration.properties as Record<string, { default: unknown }>;
    for (const [name, value] of Object.entries(SETTING_DEFAULTS)) assert.deepEqual(props[`mlw.${name}`]?.default, value, `mlw.${name}`);
  });

  it('treats empty and invalid values as unset, as the settings UI does', () => {
    const s = resolveSettings((n) => ({ baseImage: '  ', snapshotMaxMB: 0, dockerHost: ' tcp://127.0.0.1:1 ', maxConcurrentRuns: 2.7, metricGoals: [] })[n as string]);
    assert.equal(s.baseImage, 'python:3.12-slim');
    assert.equal(s.snapshotMaxBytes, 200 * 1024 * 1024);
    assert.equal(s.dockerHost, 'tcp://127.0.0.1:1');
    assert.equal(s.maxConcurrentRuns, 2);
    assert.deepEqual(s.metricGoals, {});
  });
});
