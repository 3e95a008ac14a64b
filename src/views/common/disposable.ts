/** Anything with a dispose(): VS Code's Disposable, a Node watcher wrapper, a timer wrapper. */
export interface DisposableLike {
  dispose(): unknown;
}

/**
 * Base class for everything that owns resources: `_register` them as they are made and one `dispose()` frees
 * them, newest first. Registering after disposal disposes at once, so a late async result cannot leak.
 */
export abstract class Disposable implements DisposableLike {
  private readonly owned: DisposableLike[] = [];
  private disposedFlag = false;

  protected get isDisposed(): boolean {
    return this.disposedFlag;
  }

  protected _register<T extends DisposableLike>(item: T): T {
    if (this.disposedFlag) item.dispose();
    else this.owned.push(item);
    return item;
  }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    for (const item of this.owned.splice(0).reverse()) {
      try {
        item.dispose();
      } catch {
        // One failing dispose must not keep the others alive.
      }
    }
  }
}

/** A disposable from a function (timers, stream stops). */
export function toDisposable(fn: () => unknown): DisposableLike {
  let done = false;
  return {
    dispose: () => {
      if (!done) {
        done = true;
        fn();
      }
    },
  };
}
