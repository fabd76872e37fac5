// nginx configuration shared by everything the worker tier does (image transforms, encrypted
// stores): its upstream, and the answer when it is down. Rendered when either is configured.
import type { SluiceConfig } from '../config/schema.js';
import { JSON_ERROR_TYPE } from './render-errors.js';
import { workerUpstream } from './worker-address.js';

export const WORKER_UPSTREAM = 'sluice_worker';

export function workerNeeded(config: SluiceConfig): boolean {
  return config.transform.enabled || Object.values(config.stores).some((store) => store.encrypted);
}

/** Lines for the http include: the worker upstream (worker.upstream, else its listen address). */
export function renderWorkerHttp(config: SluiceConfig): string[] {
  if (!workerNeeded(config)) return [];
  return [
    '',
    '# Worker tier: image transforms, encrypted stores.',
    `upstream ${WORKER_UPSTREAM} {`,
    `    server ${workerUpstream(config.worker)};`,
    '    keepalive 16;',
    '}',
  ];
}

/** Lines for the server include: the worker down or silent is a short JSON answer, not nginx's HTML page. */
export function renderWorkerServer(config: SluiceConfig): string[] {
  if (!workerNeeded(config)) return [];
  return [
    '',
    'location @sluice_worker_unavailable {',
    ...JSON_ERROR_TYPE.map((line) => `    ${line}`),
    '    add_header X-Content-Type-Options nosniff always;',
    '    add_header Cache-Control no-store always;',
    '    add_header Retry-After 5 always;',
    `    return 503 '{"error":"worker unavailable"}\\n';`,
    '}',
  ];
}
