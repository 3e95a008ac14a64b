/** Shared by the reliability benchmarks (bench/reliability*.ts): they count failures, so their checks are exact. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { RunRecord, isTerminal } from '../../src/model/runs/run';
import { RunStore } from '../../src/model/runs/runStore';
import { REPO_ROOT } from '../../test/harness/testWorkspace';
export { until } from '../../test/harness/until';

/** bin/mlw, the launcher of dist/cli.js (the bundle only exports runCli; node dist/cli.js alone does nothing). */
export const CLI = path.join(REPO_ROOT, 'bin', 'mlw');

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Count (or `n` of `total`) lines that read the same in every benchmark's output. */
export function figure(label: string, value: string | number): void {
  console.log(`  ${label.padEnd(52)} ${value}`);
}

/** What Docker says happened to each run's container: `start` and `die` events by run id. */
export class ContainerEvents {
  readonly started = new Set<string>();
  readonly exitCodes = new Map<string, number>();
  private stream?: NodeJS.ReadableStream;

  static async watch(docker: Docker, workspace: string): Promise<ContainerEvents> {
    const e = new ContainerEvents();
    e.stream = (await docker.getEvents({ filters: { type: ['container'], event: ['start', 'die'], label: [`mlw.workspace=${workspace}`] } })) as NodeJS.ReadableStream;
    let buffered = '';
    e.stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        const ev = JSON.parse(line) as { status: string; Actor: { Attributes: Record<string, string> } };
        const id = ev.Actor.Attributes['mlw.run-id'];
        if (!id) continue;
        if (ev.status === 'start') e.started.add(id);
        if (ev.status === 'die') e.exitCodes.set(id, Number(ev.Actor.Attributes.exitCode));
      }
    });
    return e;
  }

  close(): void {
    (this.stream as unknown as { destroy?: () => void })?.destroy?.();
  }
}

export type Verdict = 'ok' | 'unreadable' | 'wrong';

/**
 * A record is right when it says what Docker saw: a run whose container exited 0 is Completed with exit code 0,
 * a start and an end time; one that never started is Lost or Canceled, never left Queued or Running.
 */
export async function judge(store: RunStore, id: string, events: ContainerEvents): Promise<{ verdict: Verdict; why?: string; run?: RunRecord }> {
  let run: RunRecord | undefined;
  try {
    run = await store.get(id);
  } catch (err) {
    return { verdict: 'unreadable', why: (err as Error).message };
  }
  if (!run) return { verdict: 'unreadable', why: 'no run.json' };
  if (!isTerminal(run.status)) {
    const summary = (await store.listSummaries()).find((s) => s.id === id);
    return { verdict: 'wrong', why: `left ${run.status} (the index lists it ${summary ? summary.status : 'not at all'})`, run };
  }
  const exit = events.exitCodes.get(id);
  if (exit !== undefined && exit !== 0) {
    // Stopped before its end (a reconcile removed a container whose start was still in flight): not a finished run.
    return run.status === 'Completed' ? { verdict: 'wrong', why: `container exited ${exit}, recorded Completed`, run } : { verdict: 'ok', run };
  }
  if (exit !== undefined) {
    const right = run.status === 'Completed' && run.exitCode === 0 && !!run.startedAt && !!run.endedAt && Date.parse(run.endedAt) >= Date.parse(run.startedAt);
    return right ? { verdict: 'ok', run } : { verdict: 'wrong', why: `container exited ${exit}, record ${run.status} exit=${run.exitCode} started=${!!run.startedAt} ended=${!!run.endedAt} (${run.reason ?? ''})`, run };
  }
  if (events.started.has(id)) return { verdict: 'wrong', why: 'container started but never exited', run };
  return run.status === 'Lost' || run.status === 'Canceled' ? { verdict: 'ok', run } : { verdict: 'wrong', why: `never started, recorded ${run.status}`, run };
}

/** Run folders with no readable record (the store can create a folder before its record). */
export function runDirs(store: RunStore): string[] {
  const dir = path.dirname(store.paths('x').dir);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => !n.startsWith('.')) : [];
}
