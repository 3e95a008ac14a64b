import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../harness/testWorkspace';

interface MenuEntry {
  command: string;
  when?: string;
}

const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));

/** Which run-item context menu entries a tree item with this contextValue would show (viewItem =~ clauses only). */
function commandsFor(contextValue: string): string[] {
  const entries = manifest.contributes.menus['view/item/context'] as MenuEntry[];
  return entries
    .filter((e) => {
      const clauses = (e.when ?? '').split('&&').map((c) => c.trim());
      return clauses.every((c) => {
        const m = /^(!?)\(?viewItem =~ \/(.*)\/\)?$/.exec(c);
        if (!m) return true;
        const hit = new RegExp(m[2]).test(contextValue);
        return m[1] ? !hit : hit;
      });
    })
    .map((e) => e.command);
}

describe('package.json contributions', () => {
  it('shows run item commands by state, as the tree encodes it in contextValue', () => {
    const running = commandsFor('run.running');
    assert.ok(running.includes('mlw.cancelRun') && !running.includes('mlw.deleteRun') && !running.includes('mlw.rerun'));
    const done = commandsFor('run.completed');
    assert.ok(done.includes('mlw.rerun') && done.includes('mlw.deleteRun') && done.includes('mlw.starRun') && !done.includes('mlw.cancelRun'));
    const starred = commandsFor('run.failed.starred');
    assert.ok(starred.includes('mlw.unstarRun') && !starred.includes('mlw.starRun'));
    for (const c of ['mlw.openRunDetails', 'mlw.openRunLogs', 'mlw.showSnapshotDiff', 'mlw.compareRuns']) assert.ok(done.includes(c), c);
    assert.deepEqual(commandsFor('experiment'), []);
    assert.ok(done.includes('mlw.registerModel') && !commandsFor('run.failed').includes('mlw.registerModel'), 'models come from completed runs');
  });

  it('shows model version commands by where the version came from', () => {
    const fromRun = commandsFor('modelVersion.run');
    for (const c of ['mlw.models.openSourceRun', 'mlw.models.setAlias', 'mlw.models.deleteVersion']) assert.ok(fromRun.includes(c), c);
    const fromFile = commandsFor('modelVersion.file');
    assert.ok(fromFile.includes('mlw.models.setAlias') && !fromFile.includes('mlw.models.openSourceRun'));
  });

  it('declares every command it puts in a menu', () => {
    const declared = new Set((manifest.contributes.commands as { command: string }[]).map((c) => c.command));
    for (const [menu, entries] of Object.entries(manifest.contributes.menus as Record<string, MenuEntry[]>)) {
      for (const e of entries) assert.ok(declared.has(e.command), `${menu}: ${e.command}`);
    }
  });

  it('validates run configurations with the committed JSON Schema, for editors with a YAML extension', () => {
    const entries = manifest.contributes.yamlValidation as { fileMatch: string[]; url: string }[];
    const entry = entries.find((e) => e.url === './schemas/runconfig.schema.json');
    assert.ok(entry, 'a yamlValidation entry for the run configuration schema');
    assert.ok(fs.statSync(path.join(REPO_ROOT, entry.url)).isFile(), entry.url);
    assert.equal(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, entry.url), 'utf8')).$schema, 'http://json-schema.org/draft-07/schema#');
    assert.deepEqual(entry.fileMatch, ['.mlw/runconfigs/*.yaml', '.mlw/runconfigs/*.yml']);
    assert.ok(manifest.scripts.schemas, 'an npm script that regenerates it');
  });
});
