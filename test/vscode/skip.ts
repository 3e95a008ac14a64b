/**
 * Why tests were skipped, by test or by suite (a skip in a `before` hook skips the whole suite): the suite's
 * entry sends it to the harness, which prints it by each pending test.
 */
const skipReasons = new WeakMap<object, string>();

/** Skips the running test (or, from a hook, its suite), saying why in the suite's output. */
export function skipBecause(ctx: Mocha.Context, reason: string): never {
  const runnable = ctx.currentTest ?? ctx.test;
  const isHook = (runnable as { type?: string } | undefined)?.type === 'hook';
  if (runnable) skipReasons.set(isHook && runnable.parent ? runnable.parent : runnable, reason);
  ctx.skip();
}

/** The reason a pending test was skipped, if it was skipped through skipBecause. */
export function skipReason(test: Mocha.Test): string | undefined {
  return skipReasons.get(test) ?? (test.parent ? skipReasons.get(test.parent) : undefined);
}
