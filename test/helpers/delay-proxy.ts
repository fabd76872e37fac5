// A loopback TCP proxy for storage faults: pass bytes through, delay them, refuse connections,
// or cut the connection after N response bytes. The mode applies to new connections (and to
// the delay of data already flowing). Switching the mode drops open connections, so pooled
// keep-alive connections (nginx's upstream keepalive) see the new mode at once.
import net from 'node:net';

export type ProxyMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'refuse' }
  | { readonly kind: 'cut'; readonly afterBytes: number };

export interface DelayProxy {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  setMode(mode: ProxyMode): void;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startDelayProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<DelayProxy> {
  let mode: ProxyMode = { kind: 'pass' };
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    accepted++;
    track(client);
    const current = mode;
    if (current.kind === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    track(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    let sent = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (current.kind === 'cut') {
        const room = current.afterBytes - sent;
        sent += chunk.length;
        if (room <= chunk.length) {
          client.write(chunk.subarray(0, Math.max(room, 0)), end);
          upstream.pause();
          return;
        }
      }
      if (mode.kind === 'delay') {
        upstream.pause();
        setTimeout(() => {
          if (!client.destroyed) client.write(chunk);
          upstream.resume();
        }, mode.ms);
        return;
      }
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    setMode(next) {
      mode = next;
      for (const socket of sockets) socket.destroy();
    },
    connections: () => accepted,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
