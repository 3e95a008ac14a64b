import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { RunContainerEvent, watchRunContainers } from '../../src/runner/docker/events';
import { connectDocker } from '../../src/runner/docker/client';
import { docker, testBaseImage } from './support';

describe('Docker events of run containers (real Docker)', () => {
  it('reports start and die of labelled containers only', async () => {
    const events: RunContainerEvent[] = [];
    const stop = await watchRunContainers(docker, (e) => events.push(e), () => undefined);
    try {
      const runId = `events-${Date.now()}`;
      execFileSync('docker', ['run', '--rm', '--label', `mlw.run-id=${runId}`, testBaseImage(), 'true']);
      // Not --rm: its id is needed to tell it apart from other sessions' runs on the same engine.
      const other = execFileSync('docker', ['run', '-d', '--label', 'other=1', testBaseImage(), 'true'], { encoding: 'utf8' }).trim();
      try {
        execFileSync('docker', ['wait', other]);
        for (let i = 0; i < 50 && !events.some((e) => e.runId === runId && e.action === 'die'); i++) await new Promise((r) => setTimeout(r, 100));
        await new Promise((r) => setTimeout(r, 300));
        const mine = events.filter((e) => e.runId === runId).map((e) => e.action);
        assert.ok(mine.includes('start') && mine.includes('die'), mine.join(','));
        assert.ok(events.every((e) => e.containerId && e.containerId !== other), 'unlabelled containers are not reported');
      } finally {
        execFileSync('docker', ['rm', '-f', other]);
      }
    } finally {
      stop();
    }
  });

  it('rejects the subscription when the engine is absent (the view retries when shown again)', async () => {
    await assert.rejects(watchRunContainers(connectDocker('unix:///tmp/mlw-no-engine.sock'), () => undefined, () => undefined));
  });
});
