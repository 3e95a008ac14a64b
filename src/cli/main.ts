import * as path from 'node:path';
import { UserFacingError } from '../model/errors';
import { RunRecord, durationMs, formatDuration } from '../model/run';
import { RunStore } from '../model/runStore';
import { connectDocker } from '../runner/docker';
import { ExperimentRunner } from '../runner/experimentRunner';
import { readWorkspaceSettings } from './settings';

const DEFAULT_BASE_IMAGE = 'python:3.12-slim';
const DEFAULT_SNAPSHOT_MAX_MB = 200;

const USAGE = `Usage: mlw <command> [options]

Commands:
  run <script.py> [-- args…]   Run a script as an experiment; streams its logs, exits with its exit code
  runs list [--json]           List runs of the workspace, newest first
  runs show <id> [--json]      Show one run (a unique prefix or suffix of the id is enough)

Options:
  --workspace DIR      Workspace folder (default: the current folder)
  --base-image IMAGE   Base image (default: MLW_BASE_IMAGE, else mlw.baseImage in .vscode/settings.json, else ${DEFAULT_BASE_IMAGE})
  --docker-host URL    Docker engine (default: mlw.dockerHost, else DOCKER_HOST, else the local socket)
  --json               Machine-readable output
  -h, --help           Show this help
`;

interface Parsed {
  positional: string[];
  passthrough: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['--workspace', '--base-image', '--docker-host']);

export function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('-')) {
      const [name, inline] = a.split(/=(.*)/s, 2);
      if (VALUE_FLAGS.has(name)) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw new UserFacingError(`${name} needs a value`);
        flags.set(name, value);
      } else if (['--json', '--help', '-h', '--version'].includes(name)) {
        flags.set(name, true);
      } else {
        throw new UserFacingError(`Unknown option ${a}. Run "mlw --help" for the options.`);
      }
    } else {
      positional.push(a);
    }
  }
  return { positional, passthrough: argv.slice(i), flags };
}

function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

function describeRun(run: RunRecord): string {
  const lines = [
    `Run       ${run.id}`,
    `Status    ${run.status}${run.reason ? ` — ${run.reason}` : ''}`,
    `Script    ${run.script}${run.args.length ? ' ' + run.args.join(' ') : ''}`,
    `Created   ${run.createdAt}`,
    `Duration  ${formatDuration(durationMs(run)) || '-'}`,
  ];
  if (run.exitCode !== undefined) lines.push(`Exit code ${run.exitCode}`);
  if (run.environment) {
    const env = run.environment;
    lines.push(`Image     ${env.imageTag} (${env.imageId.slice(0, 19)})${env.file ? ` from ${env.baseImage} + ${env.file}` : ''}`);
  }
  if (run.git) lines.push(`Git       ${run.git.branch} @ ${run.git.commit.slice(0, 10)}${run.git.dirty ? ' (uncommitted changes)' : ''}`);
  if (run.snapshot) lines.push(`Snapshot  ${run.snapshot.files} files, ${run.snapshot.bytes} bytes`);
  return lines.join('\n');
}

async function cmdRun(parsed: Parsed, workspace: string, settings: Record<string, unknown>): Promise<number> {
  const script = parsed.positional[1];
  if (!script) throw new UserFacingError('mlw run needs a script: mlw run path/to/train.py [-- args…]');
  // Empty values mean "not set", as in VS Code's settings UI.
  const baseImage = String(parsed.flags.get('--base-image') || process.env.MLW_BASE_IMAGE || settings['mlw.baseImage'] || DEFAULT_BASE_IMAGE).trim();
  const maxMB = Number(settings['mlw.snapshotMaxMB'] ?? DEFAULT_SNAPSHOT_MAX_MB);
  const docker = connectDocker(String(parsed.flags.get('--docker-host') || settings['mlw.dockerHost'] || ''));
  const runner = new ExperimentRunner(docker, new RunStore(workspace));
  const handle = await runner.submit(
    {
      workspaceRoot: workspace,
      script: path.resolve(script),
      args: parsed.passthrough,
      baseImage,
      snapshotMaxBytes: maxMB * 1024 * 1024,
    },
    {
      onBuildOutput: (_id, text) => process.stderr.write(text),
      onOutput: (_id, stream, chunk) => (stream === 'stderr' ? process.stderr : process.stdout).write(chunk),
      onStatus: (run) => process.stderr.write(`mlw: run ${run.id} ${run.status}${run.reason ? `: ${run.reason}` : ''}\n`),
    },
  );
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\nmlw: canceling the run (Ctrl+C again to leave it running)…\n');
    void handle.cancel();
  });
  const final = await handle.done;
  if (final.status === 'Completed') return 0;
  if (final.status === 'Canceled') return 130;
  return final.exitCode && final.exitCode > 0 ? final.exitCode : 1;
}

async function cmdRuns(parsed: Parsed, workspace: string): Promise<number> {
  const store = new RunStore(workspace);
  const sub = parsed.positional[1];
  const json = parsed.flags.has('--json');
  if (sub === 'list') {
    const runs = await store.list((id, err) => process.stderr.write(`mlw: skipping run ${id}: ${err.message}\n`));
    if (json) {
      process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
    } else if (!runs.length) {
      process.stdout.write(`No runs yet in ${workspace}. Start one with: mlw run <script.py>\n`);
    } else {
      const rows = [['ID', 'STATUS', 'SCRIPT', 'CREATED', 'DURATION', 'EXIT']];
      for (const r of runs) {
        rows.push([r.id, r.status, r.script, r.createdAt.replace('T', ' ').slice(0, 19), formatDuration(durationMs(r)) || '-', r.exitCode === undefined ? '-' : String(r.exitCode)]);
      }
      process.stdout.write(formatTable(rows) + '\n');
    }
    return 0;
  }
  if (sub === 'show') {
    const idArg = parsed.positional[2];
    if (!idArg) throw new UserFacingError('mlw runs show needs a run id (see mlw runs list)');
    const run = await store.get(await store.resolveId(idArg));
    if (!run) throw new UserFacingError(`Run ${idArg} has no readable record`);
    process.stdout.write((json ? JSON.stringify(run, null, 2) : describeRun(run)) + '\n');
    return 0;
  }
  throw new UserFacingError(`Unknown command "runs ${sub ?? ''}". Use "mlw runs list" or "mlw runs show <id>".`);
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed.flags.has('--help') || parsed.flags.has('-h') || !parsed.positional.length) {
    process.stdout.write(USAGE);
    return parsed.positional.length || parsed.flags.has('--help') || parsed.flags.has('-h') ? 0 : 2;
  }
  const workspace = path.resolve(String(parsed.flags.get('--workspace') ?? process.cwd()));
  const settings = readWorkspaceSettings(workspace);
  switch (parsed.positional[0]) {
    case 'run':
      return cmdRun(parsed, workspace, settings);
    case 'runs':
      return cmdRuns(parsed, workspace);
    default:
      throw new UserFacingError(`Unknown command "${parsed.positional[0]}". Run "mlw --help".`);
  }
}

/** Entry point used by bin/mlw: runs a command and exits with its code. */
export function runCli(argv: string[]): void {
  main(argv).then(
    // exitCode, not exit(): a piped stdout is flushed asynchronously and exit() would truncate it.
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      process.stderr.write(err instanceof UserFacingError ? `mlw: ${err.message}\n` : `mlw: unexpected error: ${err.stack ?? err}\n`);
      process.exitCode = 2;
    },
  );
}
