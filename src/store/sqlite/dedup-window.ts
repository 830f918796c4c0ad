/**
 * Remembers the (trace id, span id) pairs of recently stored spans so that an export the client re-sends
 * (its acknowledgement was lost) is not stored, or counted in the latency histograms, twice. OTLP says
 * duplicates are legal and receivers must tolerate them. Two generations bound memory: the window covers
 * between `generationSize` and twice that many spans, seconds at peak rates, which is when retries come.
 */
export class DedupWindow {
  private current = new Set<string>();
  private previous = new Set<string>();

  constructor(private readonly generationSize: number) {}

  /** True if the key was already seen; records it otherwise. */
  seen(key: string): boolean {
    if (this.current.has(key) || this.previous.has(key)) return true;
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(key);
    return false;
  }

  forget(key: string): void {
    this.current.delete(key);
    this.previous.delete(key);
  }
}
