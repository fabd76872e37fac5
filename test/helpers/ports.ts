import net from 'node:net';

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago: binds port 0,
 * reads the port the kernel picked, and closes the listener again.
 *
 * Inherently racy (someone else may grab the port before the caller binds
 * it), which is good enough for tests.
 */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`unexpected listener address: ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
