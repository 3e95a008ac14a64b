import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import { RESULTS_ENV, ResultEvent } from '../harness/resultsProtocol';
import { skipReason } from './skip';

function depthOf(test: Mocha.Runnable | Mocha.Suite): number {
  let depth = 0;
  for (let p = test.parent; p && !p.root; p = p.parent) depth++;
  return depth;
}

/**
 * Entry point called by VS Code's extension host (code-server or @vscode/test-electron alike): runs every
 * *.test.js beside this file. Results also go, one JSON event per line, to $MLW_TEST_RESULTS when set.
 */
export async function run(): Promise<void> {
  const resultsFile = process.env[RESULTS_ENV];
  const emit = (event: ResultEvent) => {
    if (resultsFile) fs.appendFileSync(resultsFile, JSON.stringify(event) + '\n');
  };
  const mocha = new Mocha({ ui: 'bdd', timeout: 180_000, color: false, reporter: resultsFile ? 'dot' : 'spec' });
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  const grep = process.env.MLW_TEST_GREP;
  if (grep) mocha.grep(grep);
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  const started = Date.now();

  await new Promise<void>((resolve, reject) => {
    const runner = mocha.run((failures) => {
      emit({ type: 'end', passes: runner.stats?.passes ?? 0, failures, pending: runner.stats?.pending ?? 0, duration: Date.now() - started });
      if (failures > 0) reject(new Error(`${failures} VS Code test(s) failed`));
      else resolve();
    });
    runner.on('suite', (s: Mocha.Suite) => {
      if (!s.root) emit({ type: 'suite', title: s.title, depth: depthOf(s) });
    });
    runner.on('pass', (t: Mocha.Test) => emit({ type: 'pass', title: t.title, depth: depthOf(t), duration: t.duration ?? 0 }));
    runner.on('fail', (t: Mocha.Runnable, err: Error) =>
      emit({ type: 'fail', title: t.title, fullTitle: t.fullTitle(), depth: depthOf(t), error: err.stack ?? String(err) }),
    );
    runner.on('pending', (t: Mocha.Test) => emit({ type: 'pending', title: t.title, depth: depthOf(t), reason: skipReason(t) }));
  });
}
