/**
 * The last Python traceback in a run's logs, so a failed run can show what raised next to its reason. Logs mix
 * stdout and stderr, so a traceback is found by its shape: the "Traceback (most recent call last):" header, the
 * indented frames (and 3.11's ^^^ markers), then the exception line(s) that are not indented. Pure: no I/O.
 */
import { stripTerminalEscapes } from '../common/terminalText';

const HEADER = /^(?:[ |+]*)Traceback \(most recent call last\):\s*$/;
/** How Python joins chained exceptions: the whole chain is one traceback to show. */
const CHAIN = /^(During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)\s*$/;
/** An exception line: `ValueError: bad`, `mod.Error: …`, a bare `KeyboardInterrupt`. */
const EXCEPTION = /^[A-Za-z_][\w.]*(?::.*)?$/;

/** Most lines kept (the end of a long traceback: the frames nearest the error and the exception). */
export const MAX_TRACEBACK_LINES = 60;
/** Most characters kept of one line. */
export const MAX_TRACEBACK_LINE = 500;

export interface Traceback {
  /** The traceback's lines, header to exception, terminal escapes removed. */
  text: string;
  /** The exception line ("ValueError: bad"), when there is one. */
  exception?: string;
  /** Lines left out of the middle of a very long traceback. */
  omittedLines: number;
}

/**
 * Where the traceback whose header is at `start` ends: after the indented frames (source lines, 3.11's ^^^
 * markers) and the one exception line. Lines after it are the log going on (a message's further lines are not
 * told from the output that follows, so they are left to the logs).
 */
function tracebackAt(lines: readonly string[], start: number): { end: number; exception?: string } {
  let i = start + 1;
  while (i < lines.length && (/^\s+\S/.test(lines[i]) || (lines[i].trim() === '' && /^\s+\S/.test(lines[i + 1] ?? '')))) i++;
  if (i < lines.length && EXCEPTION.test(lines[i])) return { end: i + 1, exception: lines[i] };
  return { end: i };
}

/**
 * The last traceback in `logs` (the whole chain when exceptions were chained), or undefined when there is none.
 * Only the end of a long log needs to be passed: the traceback of a failed run is at its end.
 */
export function lastTraceback(logs: string): Traceback | undefined {
  const lines = stripTerminalEscapes(logs).replace(/\r\n?/g, '\n').split('\n');
  let header = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (HEADER.test(lines[i])) {
      header = i;
      break;
    }
  }
  if (header < 0) return undefined;
  const { end, exception } = tracebackAt(lines, header);
  // Walk back over the chain: "<traceback>\n\n<chain sentence>\n\nTraceback …" is one story.
  let start = header;
  for (;;) {
    let j = start - 1;
    while (j >= 0 && lines[j].trim() === '') j--;
    if (j < 0 || !CHAIN.test(lines[j])) break;
    let k = j - 1;
    while (k >= 0 && !HEADER.test(lines[k])) k--;
    if (k < 0) break;
    start = k;
  }
  let kept = lines.slice(start, end).map((l) => (l.length > MAX_TRACEBACK_LINE ? `${l.slice(0, MAX_TRACEBACK_LINE)}…` : l));
  while (kept.length && kept[kept.length - 1].trim() === '') kept.pop();
  let omittedLines = 0;
  if (kept.length > MAX_TRACEBACK_LINES) {
    // Keep the header and the end: the innermost frames and the exception are what say what went wrong.
    omittedLines = kept.length - MAX_TRACEBACK_LINES;
    kept = [kept[0], `  … ${omittedLines} line(s) left out …`, ...kept.slice(kept.length - (MAX_TRACEBACK_LINES - 1))];
  }
  const out: Traceback = { text: kept.join('\n'), omittedLines };
  if (exception) out.exception = exception.length > MAX_TRACEBACK_LINE ? `${exception.slice(0, MAX_TRACEBACK_LINE)}…` : exception;
  return out;
}
