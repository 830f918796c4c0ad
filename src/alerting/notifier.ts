import type { Logger } from 'pino';
import type { AlertReceiverConfig } from '../config/alert-schema.js';
import type { AlertHistoryEntry } from '../store/ports.js';
import { alertmanagerPayload, jsonPayload, type AlertNotice } from './payloads.js';

/** Statuses worth another attempt: the receiver may recover (Alertmanager retries the same ones). */
const retryable = (status: number): boolean => status >= 500 || status === 408 || status === 429;

/**
 * Webhook delivery: a JSON POST per notification with a timeout, retried with doubling backoff up to the
 * receiver's maxAttempts, every attempt reported through onAttempt (the engine records it in the alert
 * history). Deliveries to one receiver are sequential, so a resolved notice never overtakes the firing
 * notice of the same alert while that one is still being retried.
 */
export class WebhookNotifier {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly stop = new AbortController();

  constructor(
    private readonly receivers: ReadonlyMap<string, AlertReceiverConfig>,
    private readonly onAttempt: (entry: AlertHistoryEntry) => void,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  notify(notice: AlertNotice): void {
    for (const name of notice.rule.receivers) {
      const receiver = this.receivers.get(name);
      if (!receiver) {
        this.onAttempt({ atMs: this.now(), rule: notice.rule.name, kind: 'delivery', receiver: name, attempt: 0, ok: false, detail: 'receiver not configured' });
        continue;
      }
      const previous = this.chains.get(name) ?? Promise.resolve();
      const next = previous.then(() => this.deliver(receiver, notice));
      this.chains.set(name, next);
      void next.finally(() => {
        if (this.chains.get(name) === next) this.chains.delete(name);
      });
    }
  }

  /** Waits for queued deliveries (tests, shutdown after stop()). */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  /** Aborts attempts in flight and pending retries, then waits for the queues to unwind. */
  async close(): Promise<void> {
    this.stop.abort();
    await this.idle();
  }

  private async deliver(receiver: AlertReceiverConfig, notice: AlertNotice): Promise<void> {
    const body = JSON.stringify(receiver.format === 'alertmanager' ? alertmanagerPayload(notice, receiver.name) : jsonPayload(notice, receiver.name));
    let wait = receiver.backoff;
    for (let attempt = 1; attempt <= receiver.maxAttempts; attempt++) {
      if (this.stop.signal.aborted) return;
      let ok = false;
      let retry = true;
      let detail: string;
      try {
        const res = await fetch(receiver.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'spanlens', ...receiver.headers },
          body,
          signal: AbortSignal.any([AbortSignal.timeout(receiver.timeout), this.stop.signal]),
        });
        await res.arrayBuffer().catch(() => undefined);
        ok = res.ok;
        retry = !ok && retryable(res.status);
        detail = `HTTP ${res.status}`;
      } catch (err) {
        detail = (err as Error).name === 'TimeoutError' ? `timed out after ${receiver.timeout} ms` : `${(err as Error).message}${(err as { cause?: Error }).cause ? `: ${(err as { cause: Error }).cause.message}` : ''}`;
      }
      this.onAttempt({ atMs: this.now(), rule: notice.rule.name, kind: 'delivery', to: notice.status, receiver: receiver.name, attempt, ok, detail });
      if (ok) return;
      if (!retry || attempt === receiver.maxAttempts) {
        this.logger.warn({ rule: notice.rule.name, receiver: receiver.name, attempt, detail }, 'alert notification not delivered');
        return;
      }
      await sleep(wait, this.stop.signal);
      wait *= 2;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
