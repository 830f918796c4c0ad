/**
 * Start times of cumulative series scraped without `_created`, per the OTel data model ("Cumulative
 * streams: handling unknown start time"): the first observation is a zero-duration point
 * (start = time), so its rate contribution is zero; later points keep that start. When the cumulative
 * value goes down the target was reset: a new sequence starts at the previous observation's time, so
 * the value after the reset counts as the increase since then (no negative or doubled rate).
 * One tracker per target; series absent from a successful scrape are forgotten (a gap).
 */
export class StartTimes {
  private readonly series = new Map<string, { startNs: bigint; last: number; lastNs: bigint; seen: number }>();
  private generation = 0;
  /** Series that could not be tracked because the cap was reached (their points are zero-duration). */
  untracked = 0;

  constructor(private readonly maxSeries = 100_000) {}

  beginScrape(): void {
    this.generation++;
  }

  /** Forgets series that the scrape just finished did not contain. */
  endScrape(): void {
    for (const [key, state] of this.series) if (state.seen !== this.generation) this.series.delete(key);
  }

  /**
   * The start time for a cumulative point. `total` is what only grows between resets (a counter's
   * value, a histogram's or summary's count); `createdNs` is the exposition's own `_created`, if any.
   */
  startOf(key: string, timeNs: bigint, total: number, createdNs?: bigint): bigint {
    const prev = this.series.get(key);
    let startNs: bigint;
    if (createdNs !== undefined && createdNs <= timeNs) startNs = createdNs;
    else if (!prev) startNs = timeNs;
    else if (total < prev.last) startNs = prev.lastNs;
    else startNs = prev.startNs;
    if (prev) {
      prev.startNs = startNs;
      prev.last = total;
      prev.lastNs = timeNs;
      prev.seen = this.generation;
    } else if (this.series.size < this.maxSeries) {
      this.series.set(key, { startNs, last: total, lastNs: timeNs, seen: this.generation });
    } else {
      this.untracked++;
    }
    return startNs;
  }

  get size(): number {
    return this.series.size;
  }
}
