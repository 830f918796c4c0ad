/** "host:port" → parts; "[::1]:4317" for IPv6. Port 0 asks the OS for a free port. */
export interface Endpoint {
  host: string;
  port: number;
}

export function parseEndpoint(text: string): Endpoint {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not HOST:PORT`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`port ${port} in "${text}" is above 65535`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

export function formatEndpoint({ host, port }: Endpoint): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
