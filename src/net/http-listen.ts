import { formatEndpoint, type Endpoint } from './endpoint.js';
import type { AnyHttpServer } from './tls.js';

/** Binds, failing fast with a clear message when the port is taken. */
export function listen(server: AnyHttpServer, endpoint: Endpoint, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const target = formatEndpoint(endpoint);
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `cannot listen for ${what} on ${target}: address already in use (is another spanlens or collector running?)`
            : `cannot listen for ${what} on ${target}: ${err.message}`,
        ),
      );
    };
    server.once('error', onError);
    server.listen(endpoint.port, endpoint.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Stops accepting, lets in-flight requests finish (idle keep-alive sockets are closed at once), then cuts the rest. */
export function closeServer(server: AnyHttpServer, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
    }, deadlineMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
