// The worker drains on shutdown: a render in flight finishes, new connections are refused.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { TICKET_HEADER } from '../../src/contract/tickets.js';
import { signTicket } from '../../src/transform/internal-token.js';
import { DEFAULT_PLAN } from '../../src/transform/plan.js';
import { startWorker, type RunningWorker } from '../../src/worker/start.js';
import { request } from '../helpers/http.js';

const SECRET = 'worker-shutdown-secret-0123456789abcdef';
let dir: string;
let worker: RunningWorker;
/** Resolves when the stub render has started; `finishRender` lets it return. */
let renderStarted: Promise<void>;
let finishRender: () => void;

let started: () => void;

before(async () => {
  renderStarted = new Promise((resolve) => {
    started = resolve;
  });
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-worker-shutdown-'));
  await mkdir(path.join(dir, 'store'));
  await writeFile(path.join(dir, 'store', 'a.jpg'), 'source bytes');
  const config = validateConfig({
    stores: { photos: { type: 'fs', root: path.join(dir, 'store') } },
    transform: { enabled: true, keys: ['736563726574'], salts: ['68656c6c6f'], localStore: 'photos' },
    worker: { secret: SECRET, port: 3999 },
  });
  worker = await startWorker(config, {
    port: 0,
    logger: createLogger('silent', new Writable({ write: (_c, _e, done) => done() })),
    // A render the test holds open stands in for sharp: it is still running at shutdown.
    render: async (source) => {
      started();
      await new Promise<void>((resolve) => {
        finishRender = resolve;
      });
      return { data: Buffer.concat([Buffer.from('rendered:'), source]), format: 'webp' };
    },
  });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('worker shutdown', () => {
  it('lets a render in flight finish, then refuses new connections', async () => {
    const ticket = signTicket(
      {
        plan: DEFAULT_PLAN,
        source: { kind: 'store', store: 'photos', segments: ['a.jpg'] },
        format: 'webp',
        cacheKey: 'b'.repeat(64),
        expires: Date.now() / 1000 + 60,
      },
      SECRET,
    );
    const inFlight = request(worker.port, '/render', { headers: { [TICKET_HEADER]: ticket } });
    await renderStarted;
    const closing = worker.close(5000);
    // Closing stops accepting at once, while the render is still running.
    await assert.rejects(request(worker.port, '/healthz'), /ECONNREFUSED/);
    finishRender();
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(res.text(), 'rendered:source bytes');
    await closing;
    await assert.rejects(request(worker.port, '/healthz'), /ECONNREFUSED/);
  });
});
