// `sluice serve|worker --processes N` as an operator runs it: a real primary forking real
// processes that share one port. Requests go straight to the app port (the rendered nginx upstream
// is the same one address either way). Every wait is for a log line, never for a fixed time.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { spawnSluice, type SluiceProcess } from '../helpers/cli-process.js';
import { request } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testAuthConfig } from '../helpers/tokens.js';

const START_TIMEOUT_MS = 90_000;
const EVENT_TIMEOUT_MS = 60_000;

interface LogLine {
  readonly msg?: string;
  readonly pid?: number;
  readonly primary?: number;
  readonly replaces?: number;
  readonly reason?: string;
  readonly pids?: number[];
  readonly audit?: { requestId?: string };
  readonly [field: string]: unknown;
}

function logLines(proc: SluiceProcess): LogLine[] {
  return proc
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
}

/** Waits for a log line matching `match`; fails with the output when the process exits or time runs out. */
async function waitForLog(proc: SluiceProcess, match: (line: LogLine) => boolean, what: string, timeoutMs = EVENT_TIMEOUT_MS): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = logLines(proc).find(match);
    if (found !== undefined) return found;
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) assert.fail(`exited before "${what}":\n${proc.output()}`);
    if (Date.now() > deadline) assert.fail(`no "${what}" within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let tmp: string;
const running: SluiceProcess[] = [];

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sluice-processes-'));
  await mkdir(path.join(tmp, 'docs'));
  await writeFile(path.join(tmp, 'docs', 'hello.txt'), 'hello\n');
  await writeFile(path.join(tmp, 'docs', 'slow.txt'), 'slow\n');
});
afterEach(() => {
  // A failed test must not leave a primary (and through it, its processes) behind.
  for (const proc of running.splice(0)) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function spawnWithConfig(name: string, args: string[], config: Record<string, unknown>, env: Record<string, string> = {}): Promise<SluiceProcess> {
  const file = path.join(tmp, `${name}.json`);
  await writeFile(file, JSON.stringify(config));
  const proc = spawnSluice(args, { SLUICE_CONFIG: file, ...env });
  running.push(proc);
  return proc;
}

/** The host app's authorization webhook, answering only when the test says so (a request in flight). */
async function heldWebhook(): Promise<{ url: string; called: Promise<void>; release(): void; close(): Promise<void> }> {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let called: () => void = () => undefined;
  const calledPromise = new Promise<void>((resolve) => (called = resolve));
  const server = http.createServer((req, res) => {
    req.resume();
    called();
    void released.then(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ allow: true, ttlSeconds: 0 }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/authorize`,
    called: calledPromise,
    release,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** GETs hello.txt until the audit lines show every pid in `pids` answered; returns who answered. */
async function servedBy(proc: SluiceProcess, port: number, pids: readonly number[]): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < 50 && !pids.every((pid) => seen.has(pid)); i += 1) {
    const res = await request(port, '/files/docs/hello.txt');
    assert.equal(res.status, 200, res.text());
    const requestId = res.headers['x-request-id'];
    const line = await waitForLog(proc, (l) => l.audit?.requestId === requestId, `audit line of ${String(requestId)}`);
    if (line.pid !== undefined) seen.add(line.pid);
  }
  return seen;
}

describe('sluice serve --processes 2', () => {
  it('serves from both processes, replaces one killed with SIGKILL, and drains an in-flight request on SIGTERM', async () => {
    const port = await freePort();
    const webhook = await heldWebhook();
    try {
      const proc = await spawnWithConfig('serve', ['serve', '--processes', '2'], {
        appPort: port,
        logLevel: 'info',
        stores: { docs: { type: 'fs', root: path.join(tmp, 'docs') } },
        auth: testAuthConfig,
        rules: [
          { id: 'slow', store: 'docs', key: 'slow.txt', effect: 'delegate', to: 'webhook' },
          { id: 'public', store: 'docs', key: '*path', when: [{ public: true }] },
        ],
        policy: { webhook: { url: webhook.url, timeoutMs: 30_000 } },
        ops: { shutdownGraceMs: 30_000 },
      });
      const ready = await waitForLog(proc, (l) => l.msg === 'all processes ready', 'all processes ready', START_TIMEOUT_MS);
      const pids = ready.pids ?? [];
      assert.equal(pids.length, 2);
      assert.ok(!pids.includes(proc.child.pid as number), 'the primary serves nothing itself');

      // Round-robin: new connections reach both processes.
      assert.deepEqual([...(await servedBy(proc, port, pids))].sort(), [...pids].sort());

      // kill -9 one process: the primary notices, the other keeps serving, a replacement appears.
      const [victim, survivor] = pids as [number, number];
      process.kill(victim, 'SIGKILL');
      await waitForLog(proc, (l) => l.msg === 'process died' && l.pid === victim, 'process died');
      for (let i = 0; i < 5; i += 1) assert.equal((await request(port, '/files/docs/hello.txt')).status, 200);
      const replaced = await waitForLog(proc, (l) => l.msg === 'process replaced' && l.replaces === victim, 'process replaced');
      const replacement = replaced.pid as number;
      await waitForLog(proc, (l) => l.msg === 'process ready' && l.pid === replacement, 'replacement ready', START_TIMEOUT_MS);
      assert.ok(!isAlive(victim));
      assert.deepEqual([...(await servedBy(proc, port, [survivor, replacement]))].sort(), [survivor, replacement].sort());

      // A request in flight (its authorization webhook has not answered yet), then SIGTERM.
      const inflight = request(port, '/files/docs/slow.txt');
      await webhook.called;
      proc.child.kill('SIGTERM');
      for (const pid of [survivor, replacement]) {
        await waitForLog(
          proc,
          (l) => l.pid === pid && l.reason === 'primary' && typeof l.msg === 'string' && l.msg.startsWith('draining'),
          `process ${pid} draining`,
        );
      }
      webhook.release();
      const res = await inflight;
      assert.equal(res.status, 200, 'the in-flight request completes');
      assert.equal(res.headers['x-accel-redirect'], '/_sluice/fs/docs/slow.txt');
      assert.equal(await proc.exited, 0, proc.output());
      assert.ok(logLines(proc).some((l) => l.msg === 'all processes drained'));
      for (const pid of [survivor, replacement]) {
        assert.ok(
          logLines(proc).some((l) => l.msg === 'process stopped' && l.pid === pid && l.code === 0),
          `process ${pid} exited 0`,
        );
        assert.ok(!isAlive(pid));
      }
      await assert.rejects(request(port, '/files/docs/hello.txt'), 'nothing listens any more');
    } finally {
      webhook.release();
      await webhook.close();
    }
  });

  it('refuses share links, rate limits and uploads without Redis at start-up, naming the settings', async () => {
    const proc = await spawnWithConfig('refused', ['serve', '--processes', '2'], {
      appPort: await freePort(),
      stores: { docs: { type: 'fs', root: path.join(tmp, 'docs') } },
      auth: testAuthConfig,
      sharing: { keys: [{ kid: 'k1', secret: 'link-secret-0123456789abcdef0123456789' }], rateLimit: { requestsPerSecond: 5 } },
      uploads: { enabled: true },
    });
    assert.equal(await proc.exited, 1);
    const output = proc.output();
    assert.match(output, /sharing\.keys \(SLUICE_SHARING__KEYS\): with 2 processes and no redisUrl/);
    assert.match(output, /sharing\.rateLimit \(SLUICE_SHARING__RATE_LIMIT\)/);
    assert.match(output, /uploads\.enabled \(SLUICE_UPLOADS__ENABLED\)/);
    assert.match(output, /set redisUrl \(SLUICE_REDIS_URL\)/);
    assert.doesNotMatch(output, /process started/, 'nothing was forked');
    assert.doesNotMatch(output, /^\s+at /m, 'a message, not a stack');
  });

  it('stops everything and exits 1 when a process fails at start-up (here: the port is taken)', async () => {
    const taken = net.createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const proc = await spawnWithConfig('port-taken', ['serve', '--processes', '2'], {
        appPort: (taken.address() as AddressInfo).port,
        stores: { docs: { type: 'fs', root: path.join(tmp, 'docs') } },
      });
      assert.equal(await proc.exited, 1, proc.output());
      assert.match(proc.output(), /sluice: .*EADDRINUSE/);
      const failed = logLines(proc).find((l) => l.msg?.startsWith('process exited before it was ready'));
      assert.ok(failed, proc.output());
      assert.equal(logLines(proc).filter((l) => l.msg === 'process replaced').length, 0, 'a start-up failure is not retried');
      for (const line of logLines(proc).filter((l) => l.msg === 'process started')) assert.ok(!isAlive(line.pid as number));
    } finally {
      taken.close();
    }
  });

  it('gives up with exit code 1 when processes keep dying (no crash loop)', async () => {
    const proc = await spawnWithConfig('crashing', ['serve', '--processes', '2'], {
      appPort: await freePort(),
      stores: { docs: { type: 'fs', root: path.join(tmp, 'docs') } },
      rules: [{ id: 'public', store: 'docs', key: '*path', when: [{ public: true }] }],
    });
    const ready = await waitForLog(proc, (l) => l.msg === 'all processes ready', 'all processes ready', START_TIMEOUT_MS);
    let target = (ready.pids ?? [])[0] as number;
    // The limit is 5 deaths within 60 s: the first four are replaced, the fifth is not.
    for (let death = 1; death <= 4; death += 1) {
      process.kill(target, 'SIGKILL');
      const replaced = await waitForLog(proc, (l) => l.msg === 'process replaced' && l.replaces === target, `replacement #${death}`);
      target = replaced.pid as number;
    }
    process.kill(target, 'SIGKILL');
    assert.equal(await proc.exited, 1, proc.output());
    assert.match(proc.output(), /app processes died 5 times within 60 s: not replacing them any more/);
    assert.equal(logLines(proc).filter((l) => l.msg === 'process replaced').length, 4);
  });
});

describe('sluice worker --processes 2', () => {
  it('refuses a master password that can be read only once (/dev/fd/3), naming the setting', async () => {
    const proc = await spawnWithConfig('worker-password', ['worker', '--processes', '2'], {
      stores: { vault: { type: 'fs', root: path.join(tmp, 'docs'), encrypted: true } },
      worker: { port: await freePort(), secret: 'worker-secret-0123456789abcdef0123456789' },
      encryption: { keyringFile: path.join(tmp, 'keyring.json'), passwordFile: '/dev/fd/3' },
    });
    assert.equal(await proc.exited, 1);
    assert.match(proc.output(), /encryption\.passwordFile \(SLUICE_ENCRYPTION__PASSWORD_FILE\): \/dev\/fd\/3 can be read once, but 2 worker processes/);
    assert.doesNotMatch(proc.output(), /process started/, 'nothing was forked');
  });

  it('serves on one port, replaces a killed process, and drains on SIGTERM', async () => {
    const port = await freePort();
    const proc = await spawnWithConfig(
      'worker',
      ['worker', '--processes', '2'],
      {
        stores: { docs: { type: 'fs', root: path.join(tmp, 'docs') } },
        worker: { port, secret: 'worker-secret-0123456789abcdef0123456789' },
      },
      { MALLOC_ARENA_MAX: '2' },
    );
    const ready = await waitForLog(proc, (l) => l.msg === 'all processes ready', 'all processes ready', START_TIMEOUT_MS);
    const pids = ready.pids ?? [];
    assert.equal(pids.length, 2);
    for (const pid of pids) {
      const listening = await waitForLog(proc, (l) => l.msg === 'sluice worker listening' && l.pid === pid, `worker ${pid} listening`);
      assert.equal(listening.address, `127.0.0.1:${port}`, 'both listen on the one port');
    }
    for (let i = 0; i < 4; i += 1) assert.equal((await request(port, '/healthz')).status, 200);

    const [victim, survivor] = pids as [number, number];
    process.kill(victim, 'SIGKILL');
    await waitForLog(proc, (l) => l.msg === 'process died' && l.pid === victim, 'process died');
    assert.equal((await request(port, '/healthz')).status, 200);
    const replacement = (await waitForLog(proc, (l) => l.msg === 'process replaced' && l.replaces === victim, 'process replaced')).pid as number;
    await waitForLog(proc, (l) => l.msg === 'process ready' && l.pid === replacement, 'replacement ready', START_TIMEOUT_MS);
    for (let i = 0; i < 4; i += 1) assert.equal((await request(port, '/healthz')).status, 200);

    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.output());
    for (const pid of [survivor, replacement]) {
      assert.ok(
        logLines(proc).some((l) => l.pid === pid && l.reason === 'primary' && typeof l.msg === 'string' && l.msg.startsWith('draining')),
        `worker ${pid} drained`,
      );
      assert.ok(!isAlive(pid));
    }
    assert.ok(logLines(proc).some((l) => l.msg === 'all processes drained'));
  });
});
