import * as vscode from 'vscode';
import { RunRecord } from '../../model/runs/run';
import { LineSplitter, LogStreamName } from '../../runner/docker/logDemux';
import { RunListener } from '../../runner/experimentRunner';

/**
 * The "ML Workbench" log output channel. Each run gets a header line and a short tag on every line so
 * concurrent runs stay readable; stderr lines are logged at error level (highlighted, filterable).
 */
export class RunOutput implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  private readonly splitters = new Map<string, Record<LogStreamName, LineSplitter>>();

  constructor() {
    this.channel = vscode.window.createOutputChannel('ML Workbench', { log: true });
  }

  private tag(runId: string): string {
    return `[${runId.slice(-4)}]`;
  }

  private splittersFor(runId: string): Record<LogStreamName, LineSplitter> {
    let s = this.splitters.get(runId);
    if (!s) {
      const tag = this.tag(runId);
      s = {
        stdout: new LineSplitter((line) => this.channel.info(`${tag} ${line}`)),
        stderr: new LineSplitter((line) => this.channel.error(`${tag} ${line}`)),
      };
      this.splitters.set(runId, s);
    }
    return s;
  }

  /** A listener for one submission; `onStatus` is chained so callers can also follow status changes. */
  listener(onStatus?: (run: RunRecord) => void): RunListener {
    const build = new Map<string, LineSplitter>();
    return {
      onBuildOutput: (runId, text) => {
        let s = build.get(runId);
        if (!s) {
          s = new LineSplitter((line) => line.trim() && this.channel.info(`${this.tag(runId)} [build] ${line}`));
          build.set(runId, s);
        }
        s.push(Buffer.from(text));
      },
      onOutput: (runId, stream, chunk) => this.splittersFor(runId)[stream].push(chunk),
      onStatus: (run) => {
        if (run.status === 'Queued') {
          this.channel.info(`━━━━ Run ${run.id}: ${run.script}${run.args.length ? ' ' + run.args.join(' ') : ''} ━━━━`);
        } else if (run.status === 'Running') {
          build.get(run.id)?.flush();
          this.channel.info(`${this.tag(run.id)} started in image ${run.environment?.imageTag ?? run.imageId ?? '?'}`);
        } else {
          build.get(run.id)?.flush();
          const s = this.splitters.get(run.id);
          s?.stdout.flush();
          s?.stderr.flush();
          this.splitters.delete(run.id);
          const line = `${this.tag(run.id)} ${run.status}${run.exitCode !== undefined ? ` (exit code ${run.exitCode})` : ''}${run.reason ? `: ${run.reason}` : ''}`;
          if (run.status === 'Completed') this.channel.info(line);
          else this.channel.warn(line);
        }
        onStatus?.(run);
      },
    };
  }

  dispose(): void {
    this.channel.dispose();
  }
}
