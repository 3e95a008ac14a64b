/**
 * The suite inside the extension host cannot print to our terminal, so it appends one JSON event per line
 * to the file named by MLW_TEST_RESULTS; the harness tails it and prints a mocha-style report.
 */
export type ResultEvent =
  | { type: 'suite'; title: string; depth: number }
  | { type: 'pass'; title: string; depth: number; duration: number }
  | { type: 'fail'; title: string; fullTitle: string; depth: number; error: string }
  | { type: 'pending'; title: string; depth: number; reason?: string }
  | { type: 'end'; passes: number; failures: number; pending: number; duration: number };

export const RESULTS_ENV = 'MLW_TEST_RESULTS';
