import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunsChange } from '../../src/views/common/workspaceRuns';
import { completedRunRecord } from '../harness/runFixtures';
import { activateExtension, store } from './helpers';

function nextChange(api: Awaited<ReturnType<typeof activateExtension>>, id: string, what: string, timeoutMs = 15_000): Promise<RunsChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`${what}: no change of run ${id} reached the feed within ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = api.workspaceRuns.onDidChange((c) => {
      if (c.ids.has(id) || c.deleted.has(id)) {
        clearTimeout(timer);
        sub.dispose();
        resolve(c);
      }
    });
  });
}

describe('One owner of a folder\'s runs (real VS Code)', () => {
  it('never loses a field when rename, label and star write the same run at once', async () => {
    await activateExtension();
    for (let i = 0; i < 5; i++) {
      const id = `20261201-000000-concur${i}`;
      await store().create(completedRunRecord(id));
      await Promise.all([
        vscode.commands.executeCommand('mlw.renameRun', id, `name-${i}`),
        vscode.commands.executeCommand('mlw.tagRun', id, ['a', 'b']),
        vscode.commands.executeCommand('mlw.starRun', id),
      ]);
      const run = await store().get(id);
      assert.equal(run?.name, `name-${i}`, `round ${i}: the name was lost`);
      assert.deepEqual(run?.labels, ['a', 'b'], `round ${i}: the labels were lost`);
      assert.equal(run?.starred, true, `round ${i}: the star was lost`);
      await store().delete(id);
    }
  });

  it('publishes this window\'s writes and, while watched, other processes\' writes on one debounced feed', async () => {
    const api = await activateExtension();
    const folder = vscode.workspace.workspaceFolders![0];
    const owner = api.workspaceRuns.of(folder);
    assert.equal(api.workspaceRuns.of(folder), owner, 'a folder has exactly one owner');

    const id = '20261201-000001-feed';
    await store().create(completedRunRecord(id));
    // This window's write: heard through the store's own event, watched or not.
    const own = nextChange(api, id, "this window's write");
    await owner.update(id, { name: 'own write' });
    assert.ok((await own).ids.has(id));

    // Another process's write (a second store on the same folder, as the CLI would be): heard through the feed's
    // file watcher while a consumer holds watch().
    const held = owner.watch();
    try {
      const external = nextChange(api, id, "another process's write");
      await store().update(id, { name: 'external write' });
      assert.ok((await external).ids.has(id));
      const gone = nextChange(api, id, 'a delete');
      await owner.store.delete(id);
      assert.ok((await gone).deleted.has(id));
    } finally {
      held.dispose();
    }
  });
});
