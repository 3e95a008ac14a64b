import * as fs from 'node:fs';
import type { RunRecord } from '../../model/runs/run';

/** Exit codes 128+N mean the process died of signal N. */
export function describeExit(code: number, oomKilled: boolean): string {
  if (oomKilled) return `Out of memory (exit code ${code}): the kernel killed the script at its memory limit; raise resources.memory in the run configuration.`;
  if (code === 137) return 'Killed (SIGKILL, exit code 137).';
  if (code > 128 && code < 160) return `Terminated by signal ${code - 128} (exit code ${code}).`;
  return `Script exited with code ${code}.`;
}

/**
 * What the container's init (tini) prints when the image has no `python` to start: the script never ran, and
 * 127 is then the init's code, not the script's.
 */
const INIT_FOUND_NO_PYTHON = /\[FATAL tini \(\d+\)\] exec python failed: No such file or directory/;

/** The end of logs.txt, where the init's last word is; a few KB is plenty and never a large read. */
async function logTail(file: string, bytes = 4096): Promise<string> {
  const fd = await fs.promises.open(file, 'r').catch(() => undefined);
  if (!fd) return '';
  try {
    const { size } = await fd.stat();
    const buf = Buffer.alloc(Math.min(bytes, size));
    await fd.read(buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8');
  } finally {
    await fd.close();
  }
}

/**
 * Says the image has no `python` (runs start `python -u <script>`), naming where the image came from and how to
 * give it one.
 */
export function describeNoPython(run: Pick<RunRecord, 'environment' | 'options' | 'imageId'>): string {
  const env = run.environment;
  const linkHint = 'an image with only python3 needs a `python` on its PATH too (in a Dockerfile: RUN ln -s "$(command -v python3)" /usr/local/bin/python)';
  const start = 'so the script never started (exit code 127)';
  if (env?.kind === 'image') {
    const where = run.options?.configName ? `"image" in run configuration "${run.options.configName}"` : 'the run configuration\'s "image"';
    return `The image "${env.imageTag}" (${where}) has no \`python\` on its PATH, ${start}. Use an image with Python; ${linkHint}.`;
  }
  if (env?.kind === 'dockerfile') {
    return `The image built from ${env.file ?? 'the Dockerfile'} has no \`python\` on its PATH, ${start}. Install Python in it or start it FROM a Python image; ${linkHint}.`;
  }
  if (env?.baseImage) {
    return `The base image "${env.baseImage}" (mlw.baseImage) has no \`python\` on its PATH, ${start}. Set mlw.baseImage to an image with Python, for example python:3.12-slim; ${linkHint}.`;
  }
  return `The run's image (${run.imageId?.slice(0, 19) ?? 'unknown'}) has no \`python\` on its PATH, ${start}; ${linkHint}.`;
}

/** The reason a run that exited non-zero failed: describeExit, unless the image could not start Python at all. */
export async function describeFailedExit(code: number, oomKilled: boolean, run: RunRecord, logsFile: string): Promise<string> {
  if (code === 127 && !oomKilled && INIT_FOUND_NO_PYTHON.test(await logTail(logsFile).catch(() => ''))) return describeNoPython(run);
  return describeExit(code, oomKilled);
}

export function formatSeconds(s: number): string {
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}
