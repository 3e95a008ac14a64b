import * as os from 'node:os';

/**
 * The 1-minute load average, printed with the figures: on a 2-core machine a test suite running alongside
 * moves container start times by tens of ms, and the reader should be able to tell.
 */
export function loadAverage(): string {
  return os.loadavg()[0].toFixed(2);
}
