/**
 * Load generator thread for bench/ingest.ts: builds its lanes' pre-encoded requests, waits for "go",
 * keeps one export in flight per lane until the window ends, then reports. Running it off the main
 * thread keeps the orchestrator's /proc sampling timers on time and lets --workers add client cores.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PayloadShape } from './otlp-payload.js';
import { Lane } from './request-template.js';
import { makeSender, runLanes, type Transport } from './load.js';

export interface LoadgenData {
  transport: Transport;
  port: number;
  laneIds: number[];
  shape: PayloadShape;
  nonceHex: string;
  baseMs: number;
  seed: number;
}

export interface LoadgenGo {
  type: 'go';
  windowStartMs: number;
  windowEndMs: number;
}

export interface LoadgenDone {
  type: 'done';
  ackedRequests: number;
  ackedSpans: number;
  windowSpans: number;
  failures: number;
  firstError: string;
  /** Export latencies (ms) of the exports acknowledged inside the window. */
  latencies: Float64Array;
  bytesPerSpan: number;
}

const port = parentPort;
if (!port) throw new Error('loadgen-worker must run as a worker thread');
const data = workerData as LoadgenData;
const nonce = Buffer.from(data.nonceHex, 'hex');
const lanes = data.laneIds.map((id) => new Lane(id, data.shape, nonce, BigInt(data.baseMs) * 1_000_000n, 3, data.seed));
const first = lanes[0]?.variants[0];
const bytesPerSpan = first ? first.body.length / first.spanCount : 0;

port.once('message', (go: LoadgenGo) => {
  void run(go);
});
port.postMessage({ type: 'ready' });

async function run(go: LoadgenGo): Promise<void> {
  const sender = makeSender(data.transport, data.port, lanes.length);
  let ackedRequests = 0;
  let ackedSpans = 0;
  let windowSpans = 0;
  let failures = 0;
  let firstError = '';
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  await runLanes(
    lanes,
    sender,
    () => Date.now() < go.windowEndMs,
    {
      onAck: (_lane, _seq, spans, latencyMs) => {
        ackedRequests++;
        ackedSpans += spans;
        const now = Date.now();
        // Count only exports completed inside the window: warm-up and the final drain are excluded.
        if (now < go.windowStartMs || now > go.windowEndMs) return;
        windowSpans += spans;
        if (n === latencies.length) {
          const bigger = new Float64Array(n * 2);
          bigger.set(latencies);
          latencies = bigger;
        }
        latencies[n++] = latencyMs;
      },
      onFail: (_lane, _seq, error) => {
        failures++;
        if (firstError === '') firstError = error;
      },
    },
    false,
  );
  sender.close();
  const done: LoadgenDone = {
    type: 'done',
    ackedRequests,
    ackedSpans,
    windowSpans,
    failures,
    firstError,
    latencies: latencies.slice(0, n),
    bytesPerSpan,
  };
  port?.postMessage(done, [done.latencies.buffer as ArrayBuffer]);
}
