/**
 * The extension host reloaded mid-run ("Developer: Reload Window" in code-server): the new host reattaches the
 * run and finishes it with every log line once. Two reloads here; bench/reliabilityReload.ts does 20.
 *
 *   node esbuild.mjs && MLW_TEST_BASE_IMAGE=... npx mocha --no-config --timeout 600000 out/test/e2e/reloadWindow.e2e.js
 */
import * as assert from 'node:assert/strict';
import { reloadMidRun } from '../harness/reloadMidRun';

describe('Reload Window mid-run (code-server + Chromium)', function () {
  this.timeout(600_000);

  it('the reloaded extension host reattaches each run: Completed, exit 0, logs complete with no line twice', async () => {
    const outcomes = await reloadMidRun(Number(process.env.MLW_RELOADS ?? 2), (l) => console.log(`      ${l}`));
    for (const o of outcomes) {
      assert.equal(o.status, 'Completed', `run ${o.id}`);
      assert.equal(o.exitCode, 0);
      assert.equal(o.logsProblem, undefined, `run ${o.id}: ${o.logsProblem}`);
      assert.ok(o.reattached, `run ${o.id} was finished by the reloaded window's extension host`);
    }
  });
});
