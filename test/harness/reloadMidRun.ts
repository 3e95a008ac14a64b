/**
 * The extension host reloaded mid-run ("Developer: Reload Window" from the palette, in code-server driven by
 * Chromium), `reloads` times, one run each: the run is started from the palette, the window reloaded at a
 * random moment while the script prints, and the new extension host must reattach the run (its activation
 * reconciles in 'attach' mode) and finish it: Completed, exit code 0, logs.txt with every line exactly once.
 * Shared by the e2e smoke test (test/e2e/reloadWindow.e2e.ts, 2 reloads) and bench/reliabilityReload.ts (20).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunRecord, isTerminal } from '../../src/model/runs/run';
import { LaunchedWorkbench, launchWorkbench } from './launchWorkbench';
import { createTestWorkspace } from './testWorkspace';

export const RELOAD_SCRIPT = 'scripts/reload_counter.py';
const LINES = 160;
const SCRIPT = `import time
for i in range(${LINES}):
    print(f"line {i:04d}", flush=True)
    time.sleep(0.05)
print("counter done")
`;

export interface ReloadOutcome {
  id: string;
  /** Whether a process other than the window that started it finished the run (the reloaded host). */
  reattached: boolean;
  status: string;
  exitCode?: number;
  logsProblem?: string;
  /** ms from the reload command to the workbench showing the explorer again. */
  reloadMs: number;
  /** ms from the reload to the run's final record on disk. */
  settleMs: number;
}

function readRecords(ws: string): RunRecord[] {
  const dir = path.join(ws, '.mlw', 'runs');
  if (!fs.existsSync(dir)) return [];
  const out: RunRecord[] = [];
  for (const id of fs.readdirSync(dir)) {
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(dir, id, 'run.json'), 'utf8')) as RunRecord);
    } catch {
      /* being written, or not yet */
    }
  }
  return out;
}

/** A stuck run's status and who owns it: is the window that started it still alive, and what is it? */
function describeOwner(run: RunRecord | undefined): string {
  const pid = run?.owner?.pid;
  let what = 'no owner';
  if (pid) {
    try {
      what = `owner ${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 200)}`;
    } catch {
      what = `owner ${pid} is gone`;
    }
  }
  return `${run?.status}; ${what}`;
}

export function logsProblem(text: string): string | undefined {
  const lines = text.split('\n').filter(Boolean);
  const numbered = lines.filter((l) => l.startsWith('line '));
  if (new Set(numbered).size !== numbered.length) return `a duplicated line (${numbered.length - new Set(numbered).size})`;
  for (let i = 0; i < numbered.length; i++) if (numbered[i] !== `line ${String(i).padStart(4, '0')}`) return `line ${i} missing or out of order`;
  if (numbered.length !== LINES || lines[lines.length - 1] !== 'counter done') return `${numbered.length} of ${LINES} lines`;
  return undefined;
}

export async function reloadMidRun(reloads: number, log: (line: string) => void = () => undefined): Promise<ReloadOutcome[]> {
  const ws = createTestWorkspace('mlw-reload-ws-');
  fs.writeFileSync(path.join(ws, RELOAD_SCRIPT), SCRIPT);
  let workbench: LaunchedWorkbench | undefined;
  const outcomes: ReloadOutcome[] = [];
  try {
    workbench = await launchWorkbench(ws);
    const { ui } = workbench;
    await ui.openFile(RELOAD_SCRIPT, 'counter done');
    for (let n = 0; n < reloads; n++) {
      const known = new Set(readRecords(ws).map((r) => r.id));
      await ui.runFromPalette('ML Workbench: Run as Experiment');
      const running = await ui.step('the new run Running with some logs', () =>
        ui.until(async () => {
          const r = readRecords(ws).find((x) => !known.has(x.id) && x.status === 'Running');
          const logs = r && path.join(ws, '.mlw', 'runs', r.id, 'logs.txt');
          return r && fs.existsSync(logs!) && fs.statSync(logs!).size > 40 ? r : undefined;
        }, 90_000, async () => JSON.stringify(readRecords(ws).filter((x) => !known.has(x.id)).map((x) => x.status))));
      // Anywhere in the script's remaining ~7 s.
      await ui.page.waitForTimeout(Math.random() * 5000);
      const t0 = Date.now();
      await ui.runFromPalette('Developer: Reload Window');
      await ui.waitForWorkbench('scripts');
      const reloadMs = Date.now() - t0;
      const final = await ui.step('the run to end after the reload', () =>
        ui.until(async () => {
          const r = readRecords(ws).find((x) => x.id === running.id);
          return r && isTerminal(r.status) ? r : undefined;
        }, 60_000, async () => describeOwner(readRecords(ws).find((x) => x.id === running.id))));
      const settleMs = Date.now() - t0;
      const problem = logsProblem(fs.readFileSync(path.join(ws, '.mlw', 'runs', running.id, 'logs.txt'), 'utf8'));
      const outcome = {
        id: running.id,
        reattached: final.owner?.pid !== running.owner?.pid,
        status: final.status,
        exitCode: final.exitCode,
        logsProblem: problem,
        reloadMs,
        settleMs,
      };
      outcomes.push(outcome);
      log(`reload ${n + 1}/${reloads}: ${JSON.stringify(outcome)}`);
      // The editor is open again after the reload (restored), so the next Run as Experiment has its script.
      await ui.openFile(RELOAD_SCRIPT, 'counter done');
    }
  } finally {
    await workbench?.close();
    fs.rmSync(ws, { recursive: true, force: true });
  }
  return outcomes;
}
