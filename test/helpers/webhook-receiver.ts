import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  atMs: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** What the receiver answered. */
  status: number;
}

/** A real HTTP server on an ephemeral loopback port that records every POST; `statuses` are answered in order, then 200. */
export async function startWebhookReceiver(statuses: number[] = []): Promise<{ url: string; received: ReceivedWebhook[]; waitFor(n: number, timeoutMs?: number): Promise<void>; close(): Promise<void> }> {
  const received: ReceivedWebhook[] = [];
  const queue = [...statuses];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = queue.shift() ?? 200;
      received.push({ atMs: Date.now(), headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'failed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`webhook receiver got ${received.length} requests, expected ${n}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
