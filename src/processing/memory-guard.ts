/**
 * The daemon's memory budget (limits.memory). Two mechanisms keep RSS under it:
 * - static bounds derived from the budget before anything is decoded: the largest request and the
 *   in-flight ingest bytes (each in-flight body exists about twice, receiver buffer and writer copy,
 *   plus what the writer decodes from it);
 * - a cheap RSS watermark sampled every 100 ms: above the soft limit the ingest limiter refuses new
 *   exports with retryable answers (the clients' retry queues hold the data, not us) until RSS falls.
 */

/** Fraction of the budget at which exports start being refused. */
export const SOFT_LIMIT_RATIO = 0.8;
/** RSS must fall this far below the soft limit before refusals stop, so the state does not flap. */
const RECOVER_RATIO = 0.9;

export interface MemoryBudget {
  limitBytes: number;
  softLimitBytes: number;
  /** In-flight decompressed request bytes admitted at once. */
  maxInflightBytes: number;
  /** Largest decompressed request either receiver reads (grpc-js buffers a whole message before our handler runs). */
  maxRequestBytes: number;
  /** SQLite page caches in KiB: the writer's, and each reader connection's (two readers, filled only by queries). */
  writerCacheKiB: number;
  readerCacheKiB: number;
}

/** Configured ingest bounds, tightened to what the memory budget allows. */
export function memoryBudget(limitBytes: number, configured: { maxInflightBytes: number; maxRequestBytes: number }): MemoryBudget {
  const eighth = Math.max(1024 * 1024, Math.floor(limitBytes / 8));
  return {
    limitBytes,
    softLimitBytes: Math.floor(limitBytes * SOFT_LIMIT_RATIO),
    maxInflightBytes: Math.min(configured.maxInflightBytes, eighth),
    maxRequestBytes: Math.min(configured.maxRequestBytes, eighth),
    // A thirty-second of the budget: 16 MiB at the 512 MiB default. The writer's cache fills completely
    // under load, and at an eighth (64 MiB) RSS under 32 concurrent exporters crossed the soft limit, so
    // the daemon refused exports it could store (bench/ingest.ts --concurrency 32: 52k → 96k spans/s).
    // Its hot pages are the trace-id index and the search and histogram tails: 16 and 64 MiB measured the
    // same writer CPU per span up to 3M stored spans; misses are reads from the OS page cache.
    writerCacheKiB: Math.max(4096, Math.min(65_536, Math.floor(limitBytes / 32 / 1024))),
    readerCacheKiB: Math.max(2048, Math.min(32_768, Math.floor(limitBytes / 16 / 1024))),
  };
}

export interface MemoryPressure {
  /** True while RSS is above the soft limit (with hysteresis). */
  readonly overSoftLimit: boolean;
  /** Why exports are being refused, for readiness and error messages. */
  describe(): string;
}

const MIB = 1024 * 1024;

export class MemoryWatch implements MemoryPressure {
  private timer: NodeJS.Timeout | undefined;
  private over = false;
  private last = 0;
  private peak = 0;
  private transitions = 0;

  constructor(
    private readonly budget: Pick<MemoryBudget, 'limitBytes' | 'softLimitBytes'>,
    /** process.memoryUsage.rss() reads one number from the OS, unlike memoryUsage() which walks the heaps. */
    private readonly sampleRss: () => number = () => process.memoryUsage.rss(),
    private readonly intervalMs = 100,
  ) {}

  get overSoftLimit(): boolean {
    return this.over;
  }

  start(): void {
    this.sample();
    this.timer ??= setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One reading; public so that tests and start-up can take one without waiting for the timer. */
  sample(): void {
    const rss = this.sampleRss();
    this.last = rss;
    if (rss > this.peak) this.peak = rss;
    const next = this.over ? rss >= this.budget.softLimitBytes * RECOVER_RATIO : rss >= this.budget.softLimitBytes;
    if (next !== this.over) this.transitions++;
    this.over = next;
  }

  stats(): { rssBytes: number; peakRssBytes: number; limitBytes: number; softLimitBytes: number; overSoftLimit: boolean; pressureEpisodes: number } {
    return {
      rssBytes: this.last,
      peakRssBytes: this.peak,
      limitBytes: this.budget.limitBytes,
      softLimitBytes: this.budget.softLimitBytes,
      overSoftLimit: this.over,
      pressureEpisodes: Math.ceil(this.transitions / 2),
    };
  }

  describe(): string {
    return `memory above its soft limit: RSS ${Math.round(this.last / MIB)} MiB, soft limit ${Math.round(this.budget.softLimitBytes / MIB)} MiB of limits.memory ${Math.round(this.budget.limitBytes / MIB)} MiB`;
  }
}
