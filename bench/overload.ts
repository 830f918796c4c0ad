/**
 * Overload: a daemon with a small limits.memory under far more load than it can store (raw HTTP and
 * gRPC clients retrying refusals after a few ms, plus the OTel SDK exporter). Checks that RSS stays under
 * the limit, that clients only ever see retryable codes, and that every span a client believes delivered
 * is stored. See bench/lib/overload.ts.
 *
 *   npx tsx bench/overload.ts [--memory 320MiB] [--seconds 30] [--http 8] [--grpc 4] [--spans 1000] [--quick]
 *
 * stdout: one JSON line.
 */
import { parseArgs } from 'node:util';
import { runOverload } from './lib/overload.js';

const { values } = parseArgs({
  options: {
    memory: { type: 'string', default: '320MiB' },
    seconds: { type: 'string', default: '30' },
    http: { type: 'string', default: '8' },
    grpc: { type: 'string', default: '4' },
    spans: { type: 'string', default: '1000' },
    quick: { type: 'boolean', default: false },
  },
});

const result = await runOverload({
  memoryLimit: values.memory,
  loadMs: (values.quick ? 8 : Number(values.seconds)) * 1000,
  httpLanes: Number(values.http),
  grpcLanes: Number(values.grpc),
  spansPerRequest: Number(values.spans),
  retryMs: 5,
  sdkSpansPerMs: 5,
});
process.stdout.write(JSON.stringify(result) + '\n');
const ok = result.peakRssBytes < result.memoryLimitBytes && result.nonRetryable.length === 0 && result.missingRaw + result.duplicateRaw + result.missingSdk === 0;
process.exit(ok ? 0 : 1);
