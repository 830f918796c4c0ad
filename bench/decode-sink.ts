/**
 * The reference receiver for bench/ingest.ts: the same transports as spanlens (grpc-js with raw Buffer
 * (de)serializers, node:http) and the same decoder (decodeTracesFlat, without redaction), but no storage. It acks as soon
 * as a request is decoded, so "daemon rate / decode-only rate" is the price of persistence.
 *
 *   node --import tsx bench/decode-sink.ts   → prints {"grpcPort":N,"httpPort":N} on stdout, runs until SIGTERM
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { traceServiceDefinition } from '../src/receivers/otlp/grpc.js';
import { decodeTracesFlat } from '../src/codec/traces-decode.js';

const EMPTY = Buffer.alloc(0);
const MAX_REQUEST = 64 * 1024 * 1024;
let decodedSpans = 0;

const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_REQUEST });
server.addService(
  // The daemon's own registration, so the reference pays exactly the daemon's gRPC costs.
  traceServiceDefinition,
  {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      try {
        decodedSpans += decodeTracesFlat(call.request).spanCount;
        callback(null, EMPTY);
      } catch (err) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message });
      }
    },
  },
);

const httpServer = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      // One contiguous buffer, as the daemon's receiver hands to its decoder.
      decodedSpans += decodeTracesFlat(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).spanCount;
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 });
      res.end();
    } catch (err) {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end((err as Error).message);
    }
  });
});

const grpcPort = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
);
await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
const httpPort = (httpServer.address() as AddressInfo).port;
process.stdout.write(JSON.stringify({ grpcPort, httpPort }) + '\n');

process.on('SIGTERM', () => {
  process.stderr.write(`decode-sink: decoded ${decodedSpans} spans\n`);
  server.forceShutdown();
  httpServer.close();
  httpServer.closeAllConnections();
  process.exit(0);
});
