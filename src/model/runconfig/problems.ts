/**
 * A problem found in a run configuration, with where it is. Ranges are 0-based lines and UTF-16 characters,
 * the shape LSP diagnostics take, plus the offsets into the text for callers that slice it.
 */
import { LineCounter } from 'yaml';

export interface RunConfigPosition {
  line: number;
  character: number;
}

export interface RunConfigRange {
  start: RunConfigPosition;
  end: RunConfigPosition;
}

export interface RunConfigProblem {
  /** As in RunConfigError: "timeout", "resources.memory", "args[1]", "env.SEED", or "line 3, column 1" for syntax. */
  key: string;
  /** The reason alone, without file and key: `${file}: ${key}: ${message}` is what the runner and CLI show. */
  message: string;
  /** Every check today is an error; warnings are reserved for advice that does not stop a run. */
  severity: 'error' | 'warning';
  range: RunConfigRange;
  offsets: { start: number; end: number };
}

export function rangeOf(lines: LineCounter, start: number, end: number): RunConfigRange {
  const position = (offset: number): RunConfigPosition => {
    const { line, col } = lines.linePos(offset);
    // Line 0 means no line start was recorded before the offset, and then col is the offset itself.
    return line === 0 ? { line: 0, character: col } : { line: line - 1, character: col - 1 };
  };
  return { start: position(start), end: position(end) };
}

export function problemAt(
  lines: LineCounter,
  key: string,
  message: string,
  start: number,
  end: number,
  severity: RunConfigProblem['severity'] = 'error',
): RunConfigProblem {
  return { key, message, severity, range: rangeOf(lines, start, end), offsets: { start, end } };
}
