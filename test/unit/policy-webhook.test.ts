// The webhook authority against a real local HTTP server: what it sends, what it accepts, and
// that every other outcome fails closed (503), never allows.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Subject } from '../../src/auth/types.js';
import { policySchema, ruleSchema } from '../../src/config/policy-schema.js';
import { PublicError } from '../../src/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import { createPolicyEngine } from '../../src/policy/engine.js';
import type { Policy } from '../../src/policy/types.js';
import { freePort } from '../helpers/ports.js';

type Reply = (res: http.ServerResponse) => void;
const replies = new Map<string, Reply>();
const received: { headers: http.IncomingHttpHeaders; body: unknown; method: string | undefined }[] = [];
let server: http.Server;
let url: string;

const json =
  (status: number, body: unknown): Reply =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

const alice: Subject = { authenticated: true, id: 'alice', claims: { sub: 'alice', roles: ['viewer'] } };

async function webhookPolicy(webhook: Record<string, unknown> = {}): Promise<Policy> {
  return createPolicyEngine(
    {
      rules: [ruleSchema.parse({ id: 'host', effect: 'delegate', to: 'webhook' })],
      policy: policySchema.parse({ webhook: { url, ...webhook }, cache: { maxEntries: 0 } }),
    },
    { logger: createLogger('silent') },
  );
}

function decide(policy: Policy, keyValue: string, subject: Subject = alice) {
  return policy.decide({ store: 'media', key: { segments: keyValue.split('/'), value: keyValue }, action: 'read' }, subject);
}

async function assertUnavailable(promise: Promise<unknown>, detail: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PublicError, String(error));
    assert.deepEqual([error.status, error.reason], [503, 'authorization unavailable']);
    assert.match((error.cause as Error).message, detail);
    return true;
  });
}

before(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { key: string };
      received.push({ headers: req.headers, body, method: req.method });
      (replies.get(body.key) ?? json(200, { allow: false }))(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/authorize`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('webhook authority', () => {
  it('POSTs subject, claims, store, key and action as JSON with the configured headers', async () => {
    replies.set('pkg/a.mp4', json(200, { allow: true, ttlSeconds: 10, scope: 'pkg', extra: 'ignored' }));
    const policy = await webhookPolicy({ headers: { 'X-Sluice-Secret': 'shared-secret' } });
    const decision = await decide(policy, 'pkg/a.mp4');
    assert.deepEqual([decision.effect, decision.source, decision.ruleId, decision.reason], ['allow', 'webhook', 'host', 'webhook allowed (rule "host")']);
    const last = received.at(-1);
    assert.equal(last?.method, 'POST');
    assert.deepEqual(last?.body, { subject: 'alice', claims: { sub: 'alice', roles: ['viewer'] }, store: 'media', key: 'pkg/a.mp4', action: 'read' });
    assert.equal(last?.headers['content-type'], 'application/json');
    assert.equal(last?.headers['x-sluice-secret'], 'shared-secret');
    assert.equal(last?.headers.authorization, undefined);
  });

  it('asks for anonymous callers with a null subject; {allow: false} denies', async () => {
    const decision = await decide(await webhookPolicy(), 'pkg/b.mp4', { authenticated: false, id: null, claims: {} });
    assert.equal(decision.effect, 'deny');
    assert.deepEqual(received.at(-1)?.body, { subject: null, claims: {}, store: 'media', key: 'pkg/b.mp4', action: 'read' });
  });

  it('fails closed on error statuses, non-JSON, wrong shapes and redirects', async () => {
    const policy = await webhookPolicy();
    const cases: [string, Reply, RegExp][] = [
      ['s/500', json(500, { allow: true }), /HTTP 500/],
      ['s/403', json(403, { allow: true }), /HTTP 403/],
      ['s/204', (res) => res.writeHead(204).end(), /HTTP 204/],
      ['s/html', (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>ok</h1>'), /not JSON/],
      ['s/string', json(200, { allow: 'true' }), /not \{allow: boolean/],
      ['s/array', json(200, [true]), /not \{allow: boolean/],
      ['s/ttl', json(200, { allow: true, ttlSeconds: -5 }), /not \{allow: boolean/],
      ['s/redirect', (res) => res.writeHead(307, { location: url }).end(), /webhook request failed/],
    ];
    for (const [key, reply, detail] of cases) {
      replies.set(key, reply);
      await assertUnavailable(decide(policy, key), detail);
    }
  });

  it('fails closed after the timeout and when nothing listens', async () => {
    replies.set('slow/a', (res) => setTimeout(() => json(200, { allow: true })(res), 1500).unref());
    const policy = await webhookPolicy({ timeoutMs: 100 });
    await assertUnavailable(decide(policy, 'slow/a'), /timed out after 100 ms/);
    const closedPort = await freePort();
    const refused = await createPolicyEngine(
      { rules: [ruleSchema.parse({ effect: 'delegate', to: 'webhook' })], policy: policySchema.parse({ webhook: { url: `http://127.0.0.1:${closedPort}/` } }) },
      { logger: createLogger('silent') },
    );
    await assertUnavailable(decide(refused, 'x'), /ECONNREFUSED/);
  });
});
