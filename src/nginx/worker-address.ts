// How nginx reaches the worker (worker.upstream), as for the app in app-address.ts. The worker's
// own warning for a listen address beyond loopback is in worker/start.ts.
import type { WorkerConfig } from '../config/worker-schema.js';
import { appAddress } from './app-address.js';

/** host:port of the rendered `upstream sluice_worker`: worker.upstream, else the listen address (a wildcard as loopback). */
export function workerUpstream(worker: Pick<WorkerConfig, 'host' | 'port' | 'upstream'>): string {
  return worker.upstream ?? appAddress(worker.host, worker.port);
}
