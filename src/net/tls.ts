import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

/** PEM material for one listener, read at start-up (a rotated certificate needs a restart). */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** CA that signs client certificates (mTLS): a client without a certificate it signed fails the handshake. */
  clientCa?: Buffer;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  clientCaFile?: string | undefined;
}

/** Reads the files named by a listener's `tls` config; `where` (e.g. "api.tls") prefixes any error. */
export function loadTlsMaterial(files: TlsFiles, where: string): TlsMaterial {
  const read = (file: string, key: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`${where}.${key}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  return {
    cert: read(files.certFile, 'certFile'),
    key: read(files.keyFile, 'keyFile'),
    ...(files.clientCaFile !== undefined ? { clientCa: read(files.clientCaFile, 'clientCaFile') } : {}),
  };
}

export type AnyHttpServer = http.Server | https.Server;

/** node:http, or node:https when the listener has TLS material; same handler either way. */
export function createHttpServer(tls: TlsMaterial | undefined, options: http.ServerOptions, handler: http.RequestListener): AnyHttpServer {
  if (tls === undefined) return http.createServer(options, handler);
  return https.createServer(
    {
      ...options,
      cert: tls.cert,
      key: tls.key,
      ...(tls.clientCa !== undefined ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    },
    handler,
  );
}
