import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExpositionFormat } from '../../src/receivers/prometheus/exposition.js';
import { CONTENT_TYPES, seedExposition } from './seed-metrics.js';

export interface TestTarget {
  url: string;
  /** Tick of the seed values served next (cumulative values = base × tick). */
  tick: number;
  /** 'negotiate' serves OpenMetrics when the Accept header asks for it (as client_python does). */
  mode: 'negotiate' | ExpositionFormat | 'error500' | 'hang' | 'garbage';
  /** Accept headers received, in order. */
  readonly accepts: string[];
  close(): Promise<void>;
}

/** A real HTTP server on an ephemeral loopback port exposing the seed app's metrics. */
export async function startTestTarget(initial: Partial<Pick<TestTarget, 'tick' | 'mode'>> = {}): Promise<TestTarget> {
  const hanging = new Set<http.ServerResponse>();
  const target: TestTarget = {
    url: '',
    tick: initial.tick ?? 1,
    mode: initial.mode ?? 'negotiate',
    accepts: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const accept = req.headers.accept ?? '';
    target.accepts.push(accept);
    if (target.mode === 'hang') {
      hanging.add(res);
      return;
    }
    if (target.mode === 'error500') {
      res.writeHead(500).end('boom');
      return;
    }
    if (target.mode === 'garbage') {
      res.writeHead(200, { 'Content-Type': CONTENT_TYPES['prometheus-text'] }).end('ok 1\nthis is { not metrics\n');
      return;
    }
    const format: ExpositionFormat =
      target.mode === 'negotiate' ? (accept.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus-text') : target.mode;
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[format] }).end(seedExposition(format, target.tick));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  return target;
}
