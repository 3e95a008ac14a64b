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
      execFileSync('docker', ['run', '--rm', '--label', 'other=1', testBaseImage(), 'true']);
      for (let i = 0; i < 50 && !events.some((e) => e.action === 'die'); i++) await new Promise((r) => setTimeout(r, 100));
      const mine = events.filter((e) => e.runId === runId).map((e) => e.action);
      assert.ok(mine.includes('start') && mine.includes('die'), mine.join(','));
      assert.ok(events.every((e) => e.runId.startsWith('events-')), 'unlabelled containers are not reported');
    } finally {
      stop();
    }
  });

  it('rejects the subscription when the engine is absent (the view retries when shown again)', async () => {
    await assert.rejects(watchRunContainers(connectDocker('unix:///tmp/mlw-no-engine.sock'), () => undefined, () => undefined));
  });
});
