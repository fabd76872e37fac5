// Graceful stop of the HTTP server: no new connections, idle keep-alive sockets closed at once,
// in-flight requests given a bounded time to finish, the rest cut.
import type { Server } from 'node:http';
import { abortable } from '../abortable.js';
import type { Logger } from '../observability/logger.js';

export async function drain(server: Server, graceMs: number, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if (graceMs <= 0) {
    server.closeAllConnections();
    return closed;
  }
  // Sockets idle between keep-alive requests (nginx's upstream pool) would otherwise hold close().
  server.closeIdleConnections();
  const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
  try {
    await abortable(closed, AbortSignal.timeout(graceMs));
  } catch {
    // The grace period is over (AbortSignal.timeout holds no event loop; the sweep's interval does).
    logger.warn({ graceMs }, 'shutdown grace period over: closing remaining connections');
    server.closeAllConnections();
    await closed;
  } finally {
    clearInterval(idleSweep);
  }
}
