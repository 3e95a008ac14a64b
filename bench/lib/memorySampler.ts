/**
 * Samples this process's memory on a timer and keeps the peaks. Peaks, not end values: a stream that
 * buffers 200 MB and then frees it is still a problem in an editor's extension host.
 */
export interface MemoryGrowth {
  /** Peak minus start, in MB (1 MB = 2^20 bytes). */
  rssMB: number;
  heapUsedMB: number;
  /** Buffers live outside the V8 heap, so log streaming shows up here and in rss rather than heapUsed. */
  externalMB: number;
  samples: number;
}

const MB = 1024 * 1024;

export class MemorySampler {
  private timer: NodeJS.Timeout | undefined;
  private start0 = process.memoryUsage();
  private peak = { rss: 0, heapUsed: 0, external: 0 };
  private samples = 0;

  start(intervalMs = 100): void {
    this.start0 = process.memoryUsage();
    this.peak = { rss: this.start0.rss, heapUsed: this.start0.heapUsed, external: this.start0.external };
    this.samples = 0;
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): MemoryGrowth {
    clearInterval(this.timer);
    this.sample();
    return {
      rssMB: (this.peak.rss - this.start0.rss) / MB,
      heapUsedMB: (this.peak.heapUsed - this.start0.heapUsed) / MB,
      externalMB: (this.peak.external - this.start0.external) / MB,
      samples: this.samples,
    };
  }

  private sample(): void {
    const m = process.memoryUsage();
    this.samples += 1;
    this.peak.rss = Math.max(this.peak.rss, m.rss);
    this.peak.heapUsed = Math.max(this.peak.heapUsed, m.heapUsed);
    this.peak.external = Math.max(this.peak.external, m.external);
  }
}
