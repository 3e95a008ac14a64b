import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserFacingError } from '../model/common/errors';
import { WorkbenchSettings, resolveSettings } from '../model/common/settings';
import { formatDuration } from '../model/common/format';
import { showControls } from '../model/common/terminalText';
import { RunRecord, RunStatus, durationMs, isTerminal } from '../model/runs/run';
import { loadRunConfig } from '../model/runconfig/runConfig';
import type { RunSummary } from '../model/runs/runIndex';
import { RunStore } from '../model/runs/runStore';
import { TRACKING_FILE, readTracking } from '../model/runs/tracking';
import { connectDocker } from '../runner/docker/client';
import { ExperimentRunner, RunHandle, RunListener } from '../runner/experimentRunner';
import { optionsFromConfig } from '../runner/runRequest';


/** The workspace's `mlw.*` settings, cleaned and defaulted as the extension does (model/common/settings.ts). */
export function settingsOf(ctx: CliContext): WorkbenchSettings {
  return resolveSettings((name) => ctx.settings[`mlw.${name}`]);
}

export interface CliContext {
  workspace: string;
  settings: Record<string, unknown>;
  flags: Map<string, string | true>;
  json: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export function makeRunner(ctx: CliContext): ExperimentRunner {
  // Empty values mean "not set", as in VS Code's settings UI.
  const docker = connectDocker(String(ctx.flags.get('--docker-host') || settingsOf(ctx).dockerHost));
  return new ExperimentRunner(docker, new RunStore(ctx.workspace));
}

/** Columns padded to their widest cell; cells are run-provided text, so controls in them are shown as escapes. */
export function formatTable(table: string[][]): string {
  const rows = table.map((r) => r.map(showControls));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

export function describeRun(run: RunRecord): string {
  const lines = [
    `Run       ${run.id}${run.parentId ? ` (rerun of ${run.parentId})` : ''}`,
    `Status    ${run.status}${run.reason ? ` — ${run.reason}` : ''}`,
    `Script    ${run.script}${run.args.length ? ' ' + run.args.join(' ') : ''}`,
    `Created   ${run.createdAt}`,
    `Duration  ${formatDuration(durationMs(run)) || '-'}`,
  ];
  if (run.exitCode !== undefined) lines.push(`Exit code ${run.exitCode}`);
  if (run.options?.configName) lines.push(`Config    ${run.options.configName}`);
  if (run.environment) {
    const env = run.environment;
    const from = env.kind === 'base' || env.kind === 'image' ? '' : ` from ${env.baseImage ? `${env.baseImage} + ` : ''}${env.file}`;
    lines.push(`Image     ${env.imageTag} (${env.imageId.slice(0, 19)}, ${env.kind}${env.built ? ', built' : ''})${from}`);
  }
  if (run.git) {
    lines.push(`Git       ${run.git.branch} @ ${run.git.commit.slice(0, 10)}${run.git.dirty ? ' (uncommitted changes' + (run.git.patch ? `, saved in ${run.git.patch})` : ')') : ''}`);
    if (run.git.remote) lines.push(`Remote    ${run.git.remote}`);
  }
  if (run.snapshot) lines.push(`Snapshot  ${run.snapshot.files} files, ${run.snapshot.bytes} bytes${run.snapshot.hash ? `, sha256 ${run.snapshot.hash.slice(0, 12)}` : ''}`);
  if (run.params) lines.push(`Params    ${Object.entries(run.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`);
  if (run.metrics) lines.push(`Metrics   ${Object.entries(run.metrics).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (run.tags) lines.push(`Tags      ${Object.entries(run.tags).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  // What the run did not keep, so nothing disappears unexplained.
  for (const d of run.snapshot?.dropped ?? []) lines.push(`Left out  ${d.path} (${d.reason})`);
  for (const d of run.droppedOutputs ?? []) lines.push(`Removed   outputs/${d.path} (${d.reason})`);
  if (run.trackingUnreadable) lines.push(`Tracking  ${run.trackingUnreadable}`);
  // Names, values, paths and reasons come from the run: each line shows any control character as an escape.
  return lines.map(showControls).join('\n');
}

/** Build output is long; outside --verbose the CLI shows one progress line per build step. */
function buildProgress(ctx: CliContext): (id: string, text: string) => void {
  const verbose = ctx.flags.has('--verbose');
  return (_id, text) => {
    if (verbose) ctx.err.write(text);
    else for (const line of text.split('\n')) if (/^(Step \d+\/\d+|Building environment image|Environment image|ERROR)/.test(line)) ctx.err.write(`mlw: ${showControls(line.trim())}\n`);
  };
}

/** The last status a followed run reported, so Ctrl+C can say what it does to it. */
interface SeenStatus {
  status?: RunStatus;
}

function streamingListener(ctx: CliContext, seen: SeenStatus = {}): RunListener {
  return {
    onBuildOutput: buildProgress(ctx),
    onOutput: (_id, stream, chunk) => (stream === 'stderr' ? ctx.err : ctx.out).write(chunk),
    onStatus: (run) => {
      seen.status = run.status;
      ctx.err.write(`mlw: ${showControls(`run ${run.id} ${run.status}${run.reason ? `: ${run.reason}` : ''}`)}\n`);
    },
  };
}

/**
 * Follows a handle to its end; returns the exit code the CLI should use. Ctrl+C cancels: the first stops the
 * run (its container gets 5 s to exit, then a kill), the second kills it at once, and mlw waits for either to
 * be recorded as Canceled; a third leaves without waiting (an engine that does not answer).
 */
async function followToExit(ctx: CliContext, handle: RunHandle, seen: SeenStatus): Promise<number> {
  let interrupts = 0;
  const cancel = (options?: { now?: boolean }) =>
    handle.cancel(options).catch((err: Error) => ctx.err.write(`mlw: could not stop run ${handle.id}: ${err.message}\n`));
  const onSigint = () => {
    const started = seen.status === 'Running';
    interrupts++;
    if (interrupts === 1) {
      ctx.err.write(
        started
          ? `\nmlw: canceling run ${handle.id}: stopping its container (the script gets 5 s to exit, then it is killed); Ctrl+C again to kill it now\n`
          : `\nmlw: canceling run ${handle.id}: it will not start; Ctrl+C again to leave without waiting\n`,
      );
      void cancel();
    } else if (interrupts === 2 && started) {
      ctx.err.write(`mlw: killing the container of run ${handle.id} now; Ctrl+C again to leave without waiting\n`);
      void cancel({ now: true });
    } else {
      ctx.err.write(
        started
          ? `mlw: leaving without waiting; run ${handle.id} was told to stop and is recorded as Canceled by the next "mlw runs list"\n`
          : `mlw: leaving; run ${handle.id} will not start\n`,
      );
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  const final = await handle.done;
  process.off('SIGINT', onSigint);
  if (final.status === 'Completed') return 0;
  if (final.status === 'Canceled') return 130;
  return final.exitCode && final.exitCode > 0 ? final.exitCode : 1;
}

export async function cmdRun(ctx: CliContext, scriptArg: string | undefined, passthrough: string[]): Promise<number> {
  const configFlag = ctx.flags.get('--config');
  const configName = typeof configFlag === 'string' ? configFlag : 'default';
  const config = await loadRunConfig(ctx.workspace, configName);
  if (!config && typeof configFlag === 'string') {
    throw new UserFacingError(`No run configuration "${configName}" in ${path.join(ctx.workspace, '.mlw', 'runconfigs')} (expected ${configName}.yaml).`);
  }
  const script = scriptArg ?? config?.script;
  if (!script) throw new UserFacingError('mlw run needs a script: mlw run path/to/train.py [-- args…] (or a run configuration with "script:")');
  const scriptPath = scriptArg ? path.resolve(scriptArg) : path.join(ctx.workspace, script);
  const settings = settingsOf(ctx);
  const baseImage = String(ctx.flags.get('--base-image') || process.env.MLW_BASE_IMAGE || settings.baseImage).trim();
  const seen: SeenStatus = {};
  const handle = await makeRunner(ctx).submit(
    {
      workspaceRoot: ctx.workspace,
      script: scriptPath,
      args: passthrough.length || !config ? passthrough : config.args,
      baseImage,
      snapshotMaxBytes: settings.snapshotMaxBytes,
      options: config ? optionsFromConfig(config) : undefined,
    },
    streamingListener(ctx, seen),
  );
  return followToExit(ctx, handle, seen);
}

export async function cmdRerun(ctx: CliContext, idArg: string | undefined): Promise<number> {
  if (!idArg) throw new UserFacingError('mlw rerun needs a run id (see mlw runs list)');
  const runner = makeRunner(ctx);
  const seen: SeenStatus = {};
  const handle = await runner.rerun(await runner.store.resolveId(idArg), streamingListener(ctx, seen));
  return followToExit(ctx, handle, seen);
}

/**
 * `mlw runs list`: from the run index, so it stays fast with thousands of runs. `--json` prints run summaries
 * (the record's fields a list needs, under the record's names; see RunSummary); `mlw runs show <id> --json`
 * prints a full record.
 */
export async function cmdList(ctx: CliContext): Promise<number> {
  const runner = makeRunner(ctx);
  // A run whose record cannot be used is listed as Unreadable, its reason below the table.
  const list = () => runner.store.listSummaries();
  let runs = await list();
  // Runs left behind by a process that ended get their real status before they are listed. Only runs not yet
  // ended can need it, so a history of ended runs is listed once, with no Docker call.
  if (runs.some((r) => r.status === 'Queued' || r.status === 'Running')) {
    await runner.reconcile('catch-up').catch((err: Error) => ctx.err.write(`mlw: could not reconcile runs with Docker (${err.message}); statuses may be stale\n`));
    runs = await list();
  }
  for (const r of runs) if (r.status === 'Unreadable') ctx.err.write(`mlw: ${showControls(`run ${r.id} cannot be read: ${r.reason}`)}\n`);
  if (ctx.json) {
    ctx.out.write(JSON.stringify(runs, null, 2) + '\n');
  } else if (!runs.length) {
    ctx.out.write(`No runs yet in ${ctx.workspace}. Start one with: mlw run <script.py>\n`);
  } else {
    // durationMs reads only the start and end times a summary has.
    const duration = (r: RunSummary) => formatDuration(durationMs(r)) || '-';
    const rows = [['ID', 'STATUS', 'SCRIPT', 'CREATED', 'DURATION', 'EXIT']];
    for (const r of runs) {
      rows.push([r.id, r.status, r.script, r.createdAt.replace('T', ' ').slice(0, 19), duration(r), r.exitCode === undefined ? '-' : String(r.exitCode)]);
    }
    ctx.out.write(formatTable(rows) + '\n');
  }
  return 0;
}

async function getRun(store: RunStore, idArg: string | undefined, verb: string): Promise<RunRecord> {
  if (!idArg) throw new UserFacingError(`mlw runs ${verb} needs a run id (see mlw runs list)`);
  const run = await store.get(await store.resolveId(idArg));
  if (!run) throw new UserFacingError(`Run ${idArg} has no readable record`);
  return run;
}

export async function cmdShow(ctx: CliContext, idArg: string | undefined): Promise<number> {
  const run = await getRun(new RunStore(ctx.workspace), idArg, 'show');
  ctx.out.write((ctx.json ? JSON.stringify(run, null, 2) : describeRun(run)) + '\n');
  return 0;
}

export async function cmdCancel(ctx: CliContext, idArg: string | undefined): Promise<number> {
  const runner = makeRunner(ctx);
  const run = await getRun(runner.store, idArg, 'cancel');
  if (isTerminal(run.status)) {
    ctx.err.write(`mlw: run ${run.id} already ended (${run.status})\n`);
    return 0;
  }
  await runner.cancel(run.id);
  ctx.err.write(`mlw: cancel requested for run ${run.id}\n`);
  return 0;
}

/** Prints logs.txt, and with -f keeps printing what is appended until the run ends. */
export async function cmdLogs(ctx: CliContext, idArg: string | undefined): Promise<number> {
  const runner = makeRunner(ctx);
  let run = await getRun(runner.store, idArg, 'logs');
  const file = runner.store.paths(run.id).logs;
  let offset = 0;
  const pump = async () => {
    const fd = await fs.promises.open(file, 'r').catch(() => undefined);
    if (!fd) return;
    try {
      const { size } = await fd.stat();
      if (size <= offset) return;
      const buf = Buffer.alloc(size - offset);
      await fd.read(buf, 0, buf.length, offset);
      offset = size;
      ctx.out.write(buf);
    } finally {
      await fd.close();
    }
  };
  await pump();
  if (!ctx.flags.has('-f') && !ctx.flags.has('--follow')) return 0;
  // A run nobody follows any more is reattached here so its logs keep coming.
  const reconciling = isTerminal(run.status) ? Promise.resolve([]) : runner.reconcile('attach');
  while (!isTerminal(run.status)) {
    await new Promise((r) => setTimeout(r, 200));
    await pump();
    run = (await runner.store.get(run.id)) ?? run;
  }
  await reconciling.catch(() => undefined);
  await pump();
  return 0;
}

export async function cmdMetrics(ctx: CliContext, idArg: string | undefined): Promise<number> {
  const store = new RunStore(ctx.workspace);
  const run = await getRun(store, idArg, 'metrics');
  const data = await readTracking(path.join(store.paths(run.id).tracking, TRACKING_FILE));
  if (data.unreadable) ctx.err.write(`mlw: ${data.unreadable}\n`);
  if (ctx.json) {
    ctx.out.write(JSON.stringify({ id: run.id, status: run.status, ...data }, null, 2) + '\n');
    return 0;
  }
  const names = Object.keys(data.metrics);
  if (!names.length) {
    ctx.out.write(`Run ${run.id} has logged no metrics${isTerminal(run.status) ? '' : ' yet'} (use mlw.log_metric in the script).\n`);
    return 0;
  }
  const rows = [['METRIC', 'LAST', 'MIN', 'MAX', 'POINTS']];
  for (const name of names) {
    const points = data.metrics[name];
    // A loop, not Math.min(...values): spreading 100k points overflows the call stack.
    let min = Infinity;
    let max = -Infinity;
    for (const p of points) {
      min = Math.min(min, p.value);
      max = Math.max(max, p.value);
    }
    rows.push([name, String(points[points.length - 1].value), String(min), String(max), String(points.length)]);
  }
  ctx.out.write(formatTable(rows) + '\n');
  if (Object.keys(data.params).length) ctx.out.write(`\n${showControls(`Params: ${Object.entries(data.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`)}\n`);
  return 0;
}
