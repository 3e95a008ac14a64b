import * as assert from 'node:assert/strict';
import { RunRecord } from '../../src/model/runs/run';
import { TrackingData, applyEvents, emptyTracking, parseTrackingEvent } from '../../src/model/runs/tracking';
import { fromDisplayNumber } from '../../src/views/protocol/common';
import { parseFromWebview, parseWebviewState } from '../../src/views/protocol/runDetails';
import { MAX_SPARKLINE_POINTS, RunDetailsExtra, buildRunDetailsState, downsample, summarizeMetric } from '../../src/views/protocol/runDetailsData';

const EXTRA: RunDetailsExtra = {
  folder: 'file:///ws',
  folderName: 'ws',
  hasPatch: true,
  hasBuildLog: false,
  hasLogs: true,
  environmentFileAvailable: true,
};

function record(patch: Partial<RunRecord> = {}): RunRecord {
  return {
    schemaVersion: 1,
    id: '20250101-000000-ab12',
    script: 'scripts/train.py',
    args: ['--epochs', '3'],
    status: 'Completed',
    createdAt: '2025-01-01T00:00:00.000Z',
    startedAt: '2025-01-01T00:00:05.000Z',
    endedAt: '2025-01-01T00:00:35.000Z',
    exitCode: 0,
    ...patch,
  };
}

function tracking(lines: object[]): TrackingData {
  return applyEvents(emptyTracking(), lines.map((l) => parseTrackingEvent(JSON.stringify(l))!));
}

describe('Run details state (pure)', () => {
  describe('downsample', () => {
    it('leaves short series as they are', () => {
      const pts = Array.from({ length: 10 }, (_, i) => ({ x: i, y: i * i }));
      assert.deepEqual(downsample(pts, 300), pts);
    });

    it('keeps at most the limit, in order, with the first, the last, the minimum and the maximum', () => {
      const n = 100_000;
      const pts = Array.from({ length: n }, (_, i) => ({ x: i, y: Math.sin(i / 50) + (i === 31_337 ? 10 : 0) + (i === 77_777 ? -10 : 0) }));
      const out = downsample(pts, MAX_SPARKLINE_POINTS);
      assert.ok(out.length <= MAX_SPARKLINE_POINTS, `${out.length} points`);
      assert.ok(out.length >= MAX_SPARKLINE_POINTS - 2, 'uses most of the budget');
      assert.equal(out[0], pts[0]);
      assert.equal(out[out.length - 1], pts[n - 1]);
      assert.ok(out.includes(pts[31_337]), 'the spike (maximum) is kept');
      assert.ok(out.includes(pts[77_777]), 'the dip (minimum) is kept');
      for (let i = 1; i < out.length; i++) assert.ok(out[i].x > out[i - 1].x, 'strictly in order, no duplicates');
    });

    it('keeps every local extreme of each bucket, so a sawtooth keeps its full range', () => {
      const pts = Array.from({ length: 5000 }, (_, i) => ({ x: i, y: i % 2 ? 1 : -1 }));
      const out = downsample(pts, 50);
      assert.ok(out.length <= 50);
      assert.equal(Math.max(...out.map((p) => p.y)), 1);
      assert.equal(Math.min(...out.map((p) => p.y)), -1);
    });

    it('treats a tiny limit as 4 and just over the limit still fits', () => {
      const pts = Array.from({ length: 301 }, (_, i) => ({ x: i, y: -i }));
      assert.ok(downsample(pts, 300).length <= 300);
      assert.ok(downsample(pts, 1).length <= 4);
    });
  });

  describe('summarizeMetric', () => {
    it('gives the last value by arrival, min and max over finite values, points, goal and best', () => {
      const m = summarizeMetric('acc', [
        { step: 0, value: 0.5, t: 1 },
        { step: 1, value: 0.9, t: 2 },
        { step: 2, value: NaN, t: 3 },
        { step: 3, value: 0.7, t: 4 },
      ], 'max');
      assert.equal(m.last, 0.7);
      assert.equal(m.min, 0.5);
      assert.equal(m.max, 0.9);
      assert.equal(m.best, 0.9);
      assert.equal(m.goal, 'max');
      assert.equal(m.points, 4);
      assert.equal(m.xKind, 'step');
      assert.deepEqual(m.series, [{ x: 0, y: 0.5 }, { x: 1, y: 0.9 }, { x: 3, y: 0.7 }], 'NaN is not drawn');
    });

    it('carries a non-finite last value as text (JSON has no NaN/Infinity) and uses indexes without steps', () => {
      const m = summarizeMetric('loss', [{ step: null, value: 2, t: 1 }, { step: null, value: Infinity, t: 2 }], 'min');
      assert.equal(m.last, 'Infinity');
      assert.equal(fromDisplayNumber(m.last), Infinity);
      assert.equal(m.best, 2);
      assert.equal(m.xKind, 'index');
      assert.deepEqual(JSON.parse(JSON.stringify(m)), m, 'survives JSON');
    });
  });

  describe('buildRunDetailsState', () => {
    it('maps the record, tracking and outputs into the state the webview renders', () => {
      const run = record({
        parentId: '20241231-235959-0001',
        options: { configName: 'fast' },
        git: { commit: 'abc123', branch: 'main', dirty: true, remote: 'git@example.com:x.git', patch: 'git.patch', untracked: ['new.py'] },
        environment: { kind: 'requirements', baseImage: 'python:3.12-slim', file: 'requirements.txt', imageTag: 'mlw-env:1', imageId: 'sha256:1', built: false },
        metrics: { loss: 0.25, accuracy: 0.9, only_in_record: 3 },
        params: { stale: 1 },
        name: 'baseline',
        labels: ['a', 'b'],
        starred: true,
      });
      const t = tracking([
        { kind: 'param', name: 'lr', value: 0.1, t: 1 },
        { kind: 'param', name: 'layers', value: [64, 32], t: 1 },
        { kind: 'tag', name: 'stage', value: 'test', t: 1 },
        ...Array.from({ length: 1000 }, (_, i) => ({ kind: 'metric', name: 'loss', value: 1 / (i + 1), step: i, t: 2 + i })),
        { kind: 'metric', name: 'accuracy', value: 0.9, step: null, t: 5000, goal: 'max' },
      ]);
      const state = buildRunDetailsState(run, t, [{ rel: 'model.pkl', size: 10 }, { rel: 'plots/a.png', size: 2048 }], EXTRA);

      assert.equal(state.runId, run.id);
      assert.equal(state.shortId, 'ab12');
      assert.equal(state.title, 'Run ab12 — scripts/train.py');
      assert.deepEqual(state.summary, {
        status: 'Completed',
        terminal: true,
        script: 'scripts/train.py',
        args: ['--epochs', '3'],
        configName: 'fast',
        createdAt: run.createdAt,
        startedAt: run.startedAt,
        endedAt: run.endedAt,
        durationMs: 30_000,
        duration: '30s',
        exitCode: 0,
        parentId: '20241231-235959-0001',
        name: 'baseline',
        labels: ['a', 'b'],
        starred: true,
      });
      assert.deepEqual(state.params, [{ name: 'stale', value: '1' }, { name: 'lr', value: '0.1' }, { name: 'layers', value: '[64,32]' }]);
      assert.deepEqual(state.tags, [{ name: 'stage', value: 'test' }]);
      assert.deepEqual(state.metrics.map((m) => m.name), ['loss', 'accuracy', 'only_in_record']);
      const loss = state.metrics[0];
      assert.equal(loss.points, 1000);
      assert.ok(loss.series.length <= MAX_SPARKLINE_POINTS);
      assert.equal(loss.last, 1 / 1000);
      assert.equal(loss.max, 1);
      assert.equal(loss.min, 1 / 1000);
      assert.equal(state.metrics[1].goal, 'max');
      assert.equal(state.metrics[1].goalSource, 'script');
      assert.equal(loss.goal, 'min', 'loss: lower is better, by its name');
      assert.equal(loss.goalSource, 'inferred');
      assert.equal(state.metrics[2].points, 1, "a final value only in the record still shows, as one point");
      assert.deepEqual(state.outputs, [{ path: 'model.pkl', size: 10 }, { path: 'plots/a.png', size: 2048 }]);
      assert.deepEqual(state.git, { commit: 'abc123', branch: 'main', remote: 'git@example.com:x.git', dirty: true, untracked: ['new.py'], hasPatch: true });
      assert.equal(state.environment?.file, 'requirements.txt');
      assert.equal(state.environment?.fileAvailable, true);
      assert.deepEqual(state.timeline, [
        { label: 'Created', at: run.createdAt, offsetMs: 0 },
        { label: 'Started', at: run.startedAt, offsetMs: 5000 },
        { label: 'Ended', at: run.endedAt, offsetMs: 35_000 },
      ]);
      assert.deepEqual(JSON.parse(JSON.stringify(state)), state, 'the state is plain JSON');
    });

    it('describes a run still going: not terminal, no end in the timeline, and the same state until something changes', () => {
      const running = record({ status: 'Running', endedAt: undefined, exitCode: undefined });
      const state = buildRunDetailsState(running, emptyTracking(), [], EXTRA);
      assert.equal(state.summary.terminal, false);
      assert.equal(state.summary.durationMs, undefined, 'the webview counts a live duration up itself');
      assert.equal(JSON.stringify(buildRunDetailsState(running, emptyTracking(), [], EXTRA)), JSON.stringify(state), 'no clock in the state');
      assert.equal(state.summary.endedAt, undefined);
      assert.deepEqual(state.timeline.map((e) => e.label), ['Created', 'Started']);
      assert.equal(state.git, undefined);
      assert.deepEqual(state.metrics, []);
    });

    it('never reads names through the prototype chain', () => {
      const t = tracking([{ kind: 'metric', name: '__proto__', value: 1, step: 0, t: 1 }, { kind: 'param', name: 'constructor', value: 'x', t: 1 }]);
      const state = buildRunDetailsState(record(), t, [], EXTRA);
      assert.deepEqual(state.metrics.map((m) => m.name), ['__proto__']);
      assert.deepEqual(state.params, [{ name: 'constructor', value: 'x' }]);
    });
  });

  describe('parseFromWebview', () => {
    it('accepts every intent, copying only known fields', () => {
      assert.deepEqual(parseFromWebview({ type: 'ready', extra: 1 }), { type: 'ready' });
      assert.deepEqual(parseFromWebview({ type: 'openOutput', path: 'a/b.txt', x: 2 }), { type: 'openOutput', path: 'a/b.txt' });
      assert.deepEqual(parseFromWebview({ type: 'revealOutput', path: 'a.txt' }), { type: 'revealOutput', path: 'a.txt' });
      assert.deepEqual(parseFromWebview({ type: 'showDiff' }), { type: 'showDiff' });
      assert.deepEqual(parseFromWebview({ type: 'openRun', id: '20250101-000000-ab12' }), { type: 'openRun', id: '20250101-000000-ab12' });
      assert.deepEqual(parseFromWebview({ type: 'openFile', which: 'patch' }), { type: 'openFile', which: 'patch' });
      assert.deepEqual(parseFromWebview({ type: 'rendered', sparklines: 2, charts: 2, images: 1, version: 3, errors: [] }), { type: 'rendered', sparklines: 2, charts: 2, images: 1, version: 3, errors: [] });
      for (const action of ['cancel', 'rerun', 'modifyAndRerun', 'star', 'unstar', 'delete']) {
        assert.deepEqual(parseFromWebview({ type: 'runAction', action, command: 'workbench.action.terminal.new' }), { type: 'runAction', action });
      }
    });

    it('rejects unknown types and wrong shapes', () => {
      for (const bad of [
        null, undefined, 'ready', 42, [], {}, { type: 'nope' },
        { type: 'openOutput' }, { type: 'openOutput', path: 42 }, { type: 'openOutput', path: '' }, { type: 'openOutput', path: 'a\0b' },
        { type: 'openRun', id: '../x' }, { type: 'openFile', which: 'run.json' }, { type: 'openFile', which: 'toString' },
        { type: 'runAction' }, { type: 'runAction', action: 'mlw.deleteRun' }, { type: 'runAction', action: 'toString' },
        { type: 'rendered', sparklines: 2, version: 1 }, { type: 'rendered', sparklines: 2, charts: 1, images: -1, version: 1 },
        { type: 'rendered' }, { type: 'rendered', sparklines: 2 }, { type: 'rendered', sparklines: -1, version: 1 }, { type: 'rendered', sparklines: 1.5 }, { type: 'rendered', sparklines: 1, errors: [1] },
      ]) {
        assert.equal(parseFromWebview(bad), undefined, JSON.stringify(bad));
      }
    });

    it('parses the saved webview state the serializer gets', () => {
      assert.deepEqual(parseWebviewState({ runId: 'abc-1', folder: 'file:///ws', junk: 1 }), { runId: 'abc-1', folder: 'file:///ws' });
      assert.equal(parseWebviewState({ runId: '../etc', folder: 'file:///ws' }), undefined);
      assert.equal(parseWebviewState(undefined), undefined);
    });
  });
});
