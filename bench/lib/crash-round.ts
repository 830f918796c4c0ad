/**
 * One kill -9 round: drive load, SIGKILL the daemon at the given moment, restart it on the same data
 * directory and verify that everything acknowledged is there (see crash-check.ts).
 */
import type { SpawnedDaemon } from '../../test/helpers/spawn-daemon.js';
import { makeSender, runLanes, type Transport } from './load.js';
import type { Lane } from './request-template.js';
import {
  awaitLatencyMatches,
  checkTracesViaApi,
  sampleTraces,
  type CrashVerifier,
  type RequestRef,
  type RoundCheck,
} from './crash-check.js';

export interface CrashRoundOptions {
  daemon: SpawnedDaemon;
  lanes: readonly Lane[];
  transport: Transport;
  killAfterMs: number;
  verifier: CrashVerifier;
  restart: () => Promise<SpawnedDaemon>;
  /** Latency API window: must cover every span start time of the run. */
  latencyWindow: { startMs: number; endMs: number };
  apiSamples?: number;
}

export interface CrashRoundResult {
  killAfterMs: number;
  sentRequests: number;
  ackedRequests: number;
  ackedSpans: number;
  failures: number;
  restartMs: number;
  /** Spans the restarted writer re-recorded into the histograms (from its start-up log; 0 if none). */
  replayedSpans: number;
  check: RoundCheck;
  /** Services whose histogram count differs from the stored span count (empty = ok). */
  latencyDiff: Record<string, { histogram: number; stored: number }>;
  apiWrong: string[];
}

export async function crashRound(o: CrashRoundOptions): Promise<{ daemon: SpawnedDaemon; result: CrashRoundResult }> {
  const sent: RequestRef[] = [];
  const acked: RequestRef[] = [];
  let ackedSpans = 0;
  let failures = 0;
  let running = true;
  const port = o.transport === 'grpc' ? o.daemon.grpcPort : o.daemon.httpPort;
  const sender = makeSender(o.transport, port, o.lanes.length);
  const load = runLanes(
    o.lanes,
    sender,
    () => running,
    {
      onSend: (lane, seq) => sent.push({ lane, seq }),
      onAck: (lane, seq, spans) => {
        acked.push({ lane, seq });
        ackedSpans += spans;
      },
      onFail: () => failures++,
    },
    true,
  );
  await new Promise((r) => setTimeout(r, o.killAfterMs));
  o.daemon.kill('SIGKILL');
  // Stop issuing new exports only after the signal: whatever is in flight now is cut mid-way.
  running = false;
  await o.daemon.exited;
  await load;
  sender.close();

  const t0 = Date.now();
  const daemon = await o.restart();
  const restartMs = Date.now() - t0;
  const check = o.verifier.check(acked, sent);
  const latencyDiff = await awaitLatencyMatches(daemon.apiPort, check.spansByService, o.latencyWindow.startMs, o.latencyWindow.endMs);
  const apiWrong = await checkTracesViaApi(daemon.apiPort, sampleTraces(acked, o.apiSamples ?? 10));
  return {
    daemon,
    result: {
      killAfterMs: o.killAfterMs,
      sentRequests: sent.length,
      ackedRequests: acked.length,
      ackedSpans,
      failures,
      restartMs,
      replayedSpans: replayedFromLog(daemon.logTail()),
      check,
      latencyDiff,
      apiWrong,
    },
  };
}

/** True when a round proved durability (nothing acknowledged lost, nothing invented, DB intact). */
export function roundOk(r: CrashRoundResult): boolean {
  return (
    r.check.missing === 0 &&
    r.check.duplicates === 0 &&
    r.check.unexpected === 0 &&
    r.check.integrity === 'ok' &&
    Object.keys(r.latencyDiff).length === 0 &&
    r.apiWrong.length === 0
  );
}

function replayedFromLog(log: string): number {
  for (const line of log.split('\n')) {
    if (!line.includes('latency histograms caught up')) continue;
    try {
      return Number((JSON.parse(line) as { spans?: number }).spans ?? 0);
    } catch {
      return 0;
    }
  }
  return 0;
}
