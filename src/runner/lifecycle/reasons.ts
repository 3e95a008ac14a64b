/** Exit codes 128+N mean the process died of signal N. */
export function describeExit(code: number, oomKilled: boolean): string {
  if (oomKilled) return `Out of memory (exit code ${code}): the kernel killed the script at its memory limit; raise resources.memory in the run configuration.`;
  if (code === 137) return 'Killed (SIGKILL, exit code 137).';
  if (code > 128 && code < 160) return `Terminated by signal ${code - 128} (exit code ${code}).`;
  return `Script exited with code ${code}.`;
}

export function formatSeconds(s: number): string {
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}
