import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { startSpanlens } from '../../src/service.js';

/**
 * Regression test: every integration test starts the daemon from TypeScript sources, and the store's
 * writer worker must then load its .ts entry too. It used to be spawned with `execArgv: ['--import',
 * 'tsx']`, which Node 20 does not apply to a worker's entry module (ERR_UNKNOWN_FILE_EXTENSION), so
 * the daemon could not start from sources at all. Kept minimal and free of test helpers on purpose.
 */

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spanlens-src-worker-'));

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it(`starts the daemon from TypeScript sources on this Node (${process.version})`, async () => {
  const config = configSchema.parse({
    receivers: { otlp: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } },
    api: { endpoint: '127.0.0.1:0' },
    storage: { dataDir },
    log: { level: 'silent' },
  });
  const started = startSpanlens(config, pino({ level: 'silent' }));
  await expect(started).resolves.toBeDefined();
  await (await started).shutdown();
});
