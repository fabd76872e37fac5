// Decision latency of the authorization engine, measured in-process (policy.decide in a plain
// sequential loop), for: rule-only decisions, webhook decisions answered from the cache (memory
// and Redis), and uncached webhook decisions (an HTTP round trip to a host app running in its
// own process on loopback). Several rounds; the median round is quoted with the min–max.
//   node --import tsx bench/decision-latency.ts [--iterations N] [--rounds N] [--json FILE]
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { Subject } from '../src/auth/types.js';
import { policySchema, ruleSchema } from '../src/config/policy-schema.js';
import { createLogger } from '../src/observability/logger.js';
import { createPolicyEngine } from '../src/policy/engine.js';
import { createRulePolicy } from '../src/policy/rule-policy.js';
import type { AccessRequest, Policy } from '../src/policy/types.js';
import { openSharedState, type SharedState } from '../src/state/shared-state.js';
import { startRedis } from '../test/helpers/redis.js';

const arg = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(name);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const ITERATIONS = arg('--iterations', 20_000);
const ROUNDS = arg('--rounds', 3);
const jsonIndex = process.argv.indexOf('--json');
const JSON_OUT = jsonIndex > 0 ? process.argv[jsonIndex + 1] : undefined;

const logger = createLogger('silent');
const subject: Subject = { authenticated: true, id: 'alice', claims: { sub: 'alice', roles: ['viewer'], tenant: 'acme' } };

/** A realistic rule list: the deciding rule is the last one, so every rule is evaluated. */
const RULES = [
  { id: 'no-drafts', key: 'media/:pkg/drafts/*rest', effect: 'deny' },
  { id: 'public', key: 'public/*rest', when: [{ public: true }] },
  { id: 'own-folder', key: 'users/:owner/*rest', when: [{ claim: 'sub', equalsParam: 'owner' }] },
  { id: 'editors', key: 'staff/*rest', when: [{ role: 'editor' }] },
  {
    id: 'office-hours',
    key: 'office/*rest',
    when: [{ time: { weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: { from: 8, to: 18 }, timeZone: 'Europe/Berlin' } }],
  },
  { id: 'media-viewers', key: 'media/:pkg/*rest', when: [{ authenticated: true }, { anyRole: ['viewer', 'editor'] }] },
];

/** The host app in its own process: allows, scoped to the package, with the TTL it is told. */
const HOST_APP = `
const http = require('node:http');
const ttl = Number(process.argv[1]);
const server = http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    const { key } = JSON.parse(raw);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ allow: true, ttlSeconds: ttl, scope: key.split('/').slice(0, 2).join('/') }));
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startHostApp(ttlSeconds: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', HOST_APP, String(ttlSeconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${chunk.toString().trim()}/authorize`, child };
}

function requestFor(i: number): AccessRequest {
  const value = `media/pkg-1/segment-${i % 30}.ts`;
  return { store: 'media', key: { segments: value.split('/'), value }, action: 'read' };
}

interface Summary {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

async function measure(policy: Policy, iterations: number): Promise<Summary> {
  const samples = new Float64Array(iterations);
  for (let i = 0; i < Math.min(500, iterations); i += 1) await policy.decide(requestFor(i), subject);
  for (let i = 0; i < iterations; i += 1) {
    const started = performance.now();
    const decision = await policy.decide(requestFor(i), subject);
    samples[i] = (performance.now() - started) * 1000;
    if (decision.effect !== 'allow') throw new Error(`unexpected ${decision.effect}: ${decision.reason}`);
  }
  samples.sort();
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] as number;
  return { p50: at(0.5), p99: at(0.99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

function webhookEngine(url: string, state?: SharedState): Promise<Policy> {
  const rules = [...RULES.slice(0, -1), { id: 'host-app', effect: 'delegate', to: 'webhook', key: 'media/*rest' }];
  return createPolicyEngine(
    { rules: rules.map((r) => ruleSchema.parse(r)), policy: policySchema.parse({ webhook: { url, timeoutMs: 2000 } }) },
    { logger, ...(state !== undefined && { state }) },
  );
}

async function main(): Promise<void> {
  const cachedHost = await startHostApp(3600);
  const uncachedHost = await startHostApp(0);
  const redisServer = await startRedis();
  const redis = await openSharedState({ redisUrl: redisServer.url }, logger);
  const scenarios: [name: string, policy: Policy, iterations: number][] = [
    ['rule-only', createRulePolicy(RULES.map((r) => ruleSchema.parse(r))), ITERATIONS],
    ['cached-webhook (memory)', await webhookEngine(cachedHost.url), ITERATIONS],
    ['cached-webhook (Redis)', await webhookEngine(cachedHost.url, redis), Math.ceil(ITERATIONS / 4)],
    ['uncached-webhook', await webhookEngine(uncachedHost.url), Math.ceil(ITERATIONS / 10)],
  ];
  const results: Record<string, Summary[]> = {};
  try {
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const [name, policy, iterations] of scenarios) {
        const summary = await measure(policy, iterations);
        (results[name] ??= []).push(summary);
        process.stderr.write(
          `round ${round}/${ROUNDS} ${name}: p50 ${summary.p50.toFixed(1)} µs, p99 ${summary.p99.toFixed(1)} µs (${iterations} decisions)\n`,
        );
      }
    }
  } finally {
    redis.close();
    await redisServer.stop();
    cachedHost.child.kill();
    uncachedHost.child.kill();
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const fmt = (xs: number[]): string => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
  const lines = ['| decision | p50 µs | p99 µs | mean µs |', '|---|---|---|---|'];
  for (const [name, rounds] of Object.entries(results)) {
    lines.push(`| ${name} | ${fmt(rounds.map((r) => r.p50))} | ${fmt(rounds.map((r) => r.p99))} | ${fmt(rounds.map((r) => r.mean))} |`);
  }
  process.stdout.write(`\nDecision latency, in-process, median of ${ROUNDS} rounds (min–max):\n\n${lines.join('\n')}\n`);
  if (JSON_OUT !== undefined) await writeFile(JSON_OUT, `${JSON.stringify({ iterations: ITERATIONS, rounds: ROUNDS, results }, null, 2)}\n`);
}

await main();
