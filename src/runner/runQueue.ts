/**
 * A counting semaphore with a FIFO queue: at most `limit` runs hold a slot; the rest wait in submission
 * order. Shared by every runner of one process, so the limit is per editor window (or per CLI process).
 */
export class RunQueue {
  private running = 0;
  private readonly waiting: { id: string; grant: () => void }[] = [];

  constructor(private limit: number) {
    if (!(limit >= 1)) this.limit = 1;
  }

  setLimit(limit: number): void {
    this.limit = Math.max(1, Math.floor(limit) || 1);
    this.drain();
  }

  get size(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Resolves with a release function once a slot is free. */
  acquire(id: string): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push({ id, grant: () => resolve(this.releaser()) });
      this.drain();
    });
  }

  /** Drops a run that is still waiting (canceled before it started). Returns false if it was not waiting. */
  withdraw(id: string): boolean {
    const i = this.waiting.findIndex((w) => w.id === id);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.drain();
    };
  }

  private drain(): void {
    while (this.running < this.limit && this.waiting.length) {
      this.running++;
      this.waiting.shift()!.grant();
    }
  }
}
