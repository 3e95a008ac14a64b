import { UserFacingError } from '../model/common/errors';
import { SETTING_DEFAULTS } from '../model/common/settings';
import { CliContext, cmdCancel, cmdList, cmdLogs, cmdMetrics, cmdRerun, cmdRun, cmdShow } from './commands';
import { MODEL_USAGE, cmdModel } from './modelCommands';
import { readWorkspaceSettings } from './settings';
import { describeWorkspaceRoot, findWorkspaceRoot } from './workspaceRoot';

const USAGE = `Usage: mlw <command> [options]

Commands:
  run [--config NAME] [script.py] [-- args…]
                               Run a script as an experiment; streams its logs, exits with its exit code.
                               Uses .mlw/runconfigs/NAME.yaml (default: "default" when it exists).
  rerun <id>                   Run a past run again: same snapshot, image and arguments
  runs list [--json]           List runs of the workspace, newest first (reconciles runs left behind);
                               --json prints run summaries (runs show <id> --json gives a full record)
  runs show <id> [--json]      Show one run (a unique prefix or suffix of the id is enough)
  runs logs <id> [-f]          Print a run's logs; -f follows until the run ends
  runs metrics <id> [--json]   Metrics and params the script logged with the mlw Python module
  runs cancel <id>             Stop a run, whichever process started it
  runs rerun <id>              Same as rerun
${MODEL_USAGE}
Options:
  --workspace DIR      Workspace folder (default: the nearest folder above with .mlw/, else the git
                       repository's top level, else the current folder)
  --base-image IMAGE   Base image (default: MLW_BASE_IMAGE, else mlw.baseImage in .vscode/settings.json, else ${SETTING_DEFAULTS.baseImage})
  --docker-host URL    Docker engine (default: mlw.dockerHost, else DOCKER_HOST, else the local socket)
  --verbose            Full image build output (default: one line per build step)
  --json               Machine-readable output
  -h, --help           Show this help
`;

interface Parsed {
  positional: string[];
  passthrough: string[];
  flags: Map<string, string | true>;
  /** Flags given more than once, each value kept (--tag a=1 --tag b=2). */
  repeated: Map<string, string[]>;
}

const VALUE_FLAGS = new Set(['--workspace', '--base-image', '--docker-host', '--config', '--name', '--score', '--description', '--file', '--tag']);
const REPEATED_FLAGS = new Set(['--tag']);
const BOOLEAN_FLAGS = new Set(['--json', '--help', '-h', '--verbose', '-f', '--follow']);

export function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const repeated = new Map<string, string[]>();
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
        if (REPEATED_FLAGS.has(name)) repeated.set(name, [...(repeated.get(name) ?? []), value]);
      } else if (BOOLEAN_FLAGS.has(name)) {
        flags.set(name, true);
      } else {
        throw new UserFacingError(`Unknown option ${a}. Run "mlw --help" for the options.`);
      }
    } else {
      positional.push(a);
    }
  }
  return { positional, passthrough: argv.slice(i), flags, repeated };
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  const [command, sub, arg] = parsed.positional;
  if (parsed.flags.has('--help') || parsed.flags.has('-h') || !command) {
    process.stdout.write(USAGE);
    return command || parsed.flags.has('--help') || parsed.flags.has('-h') ? 0 : 2;
  }
  const flag = parsed.flags.get('--workspace');
  const root = findWorkspaceRoot(process.cwd(), flag === undefined ? undefined : String(flag));
  const note = describeWorkspaceRoot(root, process.cwd());
  if (note) process.stderr.write(`${note}\n`);
  const workspace = root.dir;
  const ctx: CliContext = {
    workspace,
    settings: readWorkspaceSettings(workspace),
    flags: parsed.flags,
    json: parsed.flags.has('--json'),
    out: process.stdout,
    err: process.stderr,
  };
  switch (command) {
    case 'run':
      return cmdRun(ctx, sub, parsed.passthrough);
    case 'rerun':
      return cmdRerun(ctx, sub);
    case 'runs':
      switch (sub) {
        case 'list':
          return cmdList(ctx);
        case 'show':
          return cmdShow(ctx, arg);
        case 'logs':
          return cmdLogs(ctx, arg);
        case 'metrics':
          return cmdMetrics(ctx, arg);
        case 'cancel':
          return cmdCancel(ctx, arg);
        case 'rerun':
          return cmdRerun(ctx, arg);
        default:
          throw new UserFacingError(`Unknown command "runs ${sub ?? ''}". Use one of: runs list, show, logs, metrics, cancel, rerun.`);
      }
    case 'model':
      return cmdModel(ctx, sub, parsed.positional.slice(2), parsed.repeated);
    default:
      throw new UserFacingError(`Unknown command "${command}". Run "mlw --help".`);
  }
}

/**
 * A reader that goes away (`mlw run x.py | head -1`) makes writes to stdout or stderr fail with EPIPE, an error
 * event that would end mlw with a stack trace while its run goes on unattended. What would have been printed is
 * dropped instead (logs.txt keeps it all), and the run is still followed and recorded.
 */
function keepGoingWhenReaderCloses(stream: NodeJS.WriteStream): void {
  stream.on('error', () => undefined);
}

/** Entry point used by bin/mlw: runs a command and exits with its code. */
export function runCli(argv: string[]): void {
  keepGoingWhenReaderCloses(process.stdout);
  keepGoingWhenReaderCloses(process.stderr);
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
