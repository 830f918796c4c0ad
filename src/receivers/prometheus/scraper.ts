import type { Logger } from 'pino';
import type { MetricsConsumer } from '../../pipeline/consumer.js';
import { ExpositionParseError, SCRAPE_ACCEPT, formatOfContentType, type Exposition } from './exposition.js';
import { parseExposition } from './parse.js';
import { StartTimes } from './start-times.js';
import { scrapeToOtlp } from './to-otlp.js';

export interface ScrapeTargetSettings {
  url: string;
  intervalMs: number;
  timeoutMs: number;
  /** Becomes `service.name` (Prometheus' job label). */
  job: string;
}

export interface PrometheusReceiverSettings {
  targets: readonly ScrapeTargetSettings[];
  /** Largest exposition read from a target (after decompression). */
  maxBodyBytes: number;
}

/** What self-telemetry shows per target ("scrape results"). */
export interface ScrapeTargetStatus {
  job: string;
  instance: string;
  url: string;
  up: boolean;
  lastScrapeUnixMs: number;
  lastDurationSeconds: number;
  lastSamples: number;
  lastError: string;
  successes: number;
  failures: number;
  /** Data points handed on and what the consumer made of them. */
  acceptedPoints: number;
  refusedPoints: number;
  failedPoints: number;
  /** Points the mapping left out (invalid histograms, gaugehistograms, negative counters). */
  droppedPoints: number;
}

interface Target {
  settings: ScrapeTargetSettings;
  url: URL;
  status: ScrapeTargetStatus;
  startTimes: StartTimes;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  /** Scrape k runs at t0 + k·interval (performance.now ms): no jitter, no drift. */
  t0: number;
  consumerError: string;
}

/**
 * Scrapes Prometheus/OpenMetrics endpoints at fixed intervals and hands each scrape to a MetricsConsumer
 * as OTLP/JSON. Scrapes of one target never overlap: a scrape slower than its interval skips the slots
 * it missed. A target that is down (connection refused, timeout, HTTP error, invalid exposition) yields
 * `up` 0 and is logged once per change of state; it is never fatal.
 */
export class PrometheusScrapeReceiver {
  private readonly targets: Target[];
  private readonly abort = new AbortController();
  private stopping = false;

  constructor(
    private readonly settings: PrometheusReceiverSettings,
    private readonly consumer: MetricsConsumer,
    private readonly logger: Logger,
  ) {
    this.targets = settings.targets.map((t) => {
      const url = new URL(t.url);
      return {
        settings: t,
        url,
        startTimes: new StartTimes(),
        t0: 0,
        consumerError: '',
        status: {
          job: t.job,
          instance: url.host,
          url: t.url,
          up: false,
          lastScrapeUnixMs: 0,
          lastDurationSeconds: 0,
          lastSamples: 0,
          lastError: '',
          successes: 0,
          failures: 0,
          acceptedPoints: 0,
          refusedPoints: 0,
          failedPoints: 0,
          droppedPoints: 0,
        },
      };
    });
  }

  /** Returns at once; the first scrape of every target starts now, in the background. */
  start(): void {
    const now = performance.now();
    for (const target of this.targets) {
      target.t0 = now;
      this.schedule(target, 0);
      this.logger.info({ url: target.settings.url, job: target.settings.job, intervalMs: target.settings.intervalMs }, 'scraping target');
    }
  }

  status(): ScrapeTargetStatus[] {
    return this.targets.map((t) => ({ ...t.status }));
  }

  /** Idempotent: cancels timers and in-flight scrapes, and waits for their hand-off to finish. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    for (const t of this.targets) clearTimeout(t.timer);
    await Promise.allSettled(this.targets.map((t) => t.running));
  }

  /** For tests and on-demand refresh: scrape one target now (waits for a running scrape first). */
  async scrapeNow(index = 0): Promise<ScrapeTargetStatus> {
    const target = this.targets[index];
    if (!target) throw new Error(`no scrape target #${index}`);
    await this.enqueue(target);
    return { ...target.status };
  }

  private schedule(target: Target, delayMs: number): void {
    if (this.stopping) return;
    target.timer = setTimeout(() => {
      void this.enqueue(target).finally(() => {
        const interval = target.settings.intervalMs;
        const elapsed = performance.now() - target.t0;
        const next = (Math.floor(elapsed / interval) + 1) * interval;
        this.schedule(target, next - elapsed);
      });
    }, Math.max(0, delayMs));
    target.timer.unref();
  }

  /** Scrapes of one target run one after another, never overlapping (they share the start-time state). */
  private enqueue(target: Target): Promise<void> {
    const run = (target.running ?? Promise.resolve()).then(() => this.scrape(target)).catch((err: unknown) => {
      this.logger.error({ err, url: target.settings.url }, 'scrape failed unexpectedly');
    });
    target.running = run;
    return run;
  }

  private async scrape(target: Target): Promise<void> {
    const { settings, status } = target;
    const timeNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
    const started = performance.now();
    let exposition: Exposition | undefined;
    let error = '';
    try {
      exposition = await this.fetchExposition(target);
    } catch (err) {
      error = describe(err, settings.timeoutMs);
    }
    if (this.stopping) return;
    const durationSeconds = (performance.now() - started) / 1000;
    target.startTimes.beginScrape();
    const mapped = scrapeToOtlp(
      { job: settings.job, url: target.url, timeNs, durationSeconds, ...(exposition ? { exposition } : {}) },
      target.startTimes,
    );
    if (exposition) target.startTimes.endScrape();
    this.noteState(target, error);
    status.lastScrapeUnixMs = Date.now();
    status.lastDurationSeconds = durationSeconds;
    status.lastSamples = mapped.samples;
    status.droppedPoints += mapped.dropped;
    if (exposition) status.successes++;
    else status.failures++;

    const points = mapped.points + 3;
    try {
      const outcome = await this.consumer.consumeMetrics({ encoding: 'json', body: Buffer.from(JSON.stringify(mapped.request)) });
      status.acceptedPoints += outcome.accepted;
      status.refusedPoints += outcome.rejected;
      this.noteConsumer(target, outcome.rejected > 0 ? `the store rejected ${outcome.rejected} points: ${outcome.message}` : '');
    } catch (err) {
      status.failedPoints += points;
      this.noteConsumer(target, (err as Error).message);
    }
  }

  private async fetchExposition(target: Target): Promise<Exposition> {
    const { settings } = target;
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(settings.timeoutMs)]);
    const res = await fetch(target.url, {
      headers: {
        Accept: SCRAPE_ACCEPT,
        'Accept-Encoding': 'gzip',
        'User-Agent': 'spanlens-scraper',
        'X-Prometheus-Scrape-Timeout-Seconds': String(settings.timeoutMs / 1000),
      },
      signal,
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new ScrapeError(`HTTP ${res.status} ${res.statusText}`.trim());
    }
    const text = await readText(res, this.settings.maxBodyBytes);
    return parseExposition(text, formatOfContentType(res.headers.get('content-type')));
  }

  private noteState(target: Target, error: string): void {
    const { status } = target;
    const wasUp = status.up;
    const first = status.successes + status.failures === 0;
    status.up = error === '';
    status.lastError = error;
    const log = { url: target.settings.url, job: target.settings.job };
    if (status.up && (!wasUp || first)) this.logger.info(log, 'scrape target is up');
    if (!status.up && (wasUp || first)) this.logger.warn({ ...log, error }, 'scrape target is down');
  }

  private noteConsumer(target: Target, error: string): void {
    if (error === target.consumerError) return;
    const log = { url: target.settings.url, job: target.settings.job };
    if (error) this.logger.warn({ ...log, error }, 'scraped metrics were not (all) stored');
    else this.logger.info(log, 'scraped metrics are stored again');
    target.consumerError = error;
  }
}

class ScrapeError extends Error {}

async function readText(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new ScrapeError(`exposition of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > maxBytes) throw new ScrapeError(`exposition is over the ${maxBytes}-byte limit`);
      chunks.push(chunk);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new ScrapeError('exposition is not valid UTF-8');
  }
}

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof ExpositionParseError) return `invalid exposition: ${err.message}`;
  if (err instanceof ScrapeError) return err.message;
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `timed out after ${timeoutMs}ms`;
  if (e.name === 'AbortError') return 'scrape cancelled (shutdown)';
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? 'fetch failed'}: ${cause}` : (e.message ?? String(err));
}
