// The app's log destination is asynchronous and buffered (audit lines are written in batches):
// a graceful stop must still write every audit line of every request it answered.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSluice } from '../helpers/cli-process.js';
import { freePort } from '../helpers/ports.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

let base: string;

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-audit-shutdown-'));
  await mkdir(path.join(base, 'files'));
  for (let i = 0; i < 20; i++) await writeFile(path.join(base, 'files', `f${i}.txt`), `file ${i}\n`);
});

after(async () => {
  await rm(base, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly requestId: string | undefined;
}

function get(agent: http.Agent, port: number, rawPath: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, requestId: res.headers['x-request-id'] as string | undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('audit lines and shutdown (`sluice serve`, buffered log destination)', () => {
  it('SIGTERM under load: every answered request has its audit line on stdout', async () => {
    const appPort = await freePort();
    const configFile = path.join(base, 'sluice.json');
    await writeFile(
      configFile,
      JSON.stringify({
        host: '127.0.0.1',
        appPort,
        stores: { files: { type: 'fs', root: path.join(base, 'files') } },
        auth: testAuthConfig,
        rules: [{ key: '*rest', when: [{ authenticated: true }] }],
        ops: { shutdownGraceMs: 2000 },
      }),
    );
    const sluice = spawnSluice(['serve'], { SLUICE_CONFIG: configFile });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const deadline = Date.now() + 20_000;
      while ((await get(agent, appPort, '/healthz', {}).catch(() => null))?.status !== 200) {
        assert.ok(Date.now() < deadline, `sluice serve did not start:\n${sluice.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const headers = await bearer('auditor');
      const answers: Answer[] = [];
      let signalled = false;
      // 8 clients in a loop; the signal goes out while requests are still being answered.
      await Promise.all(
        Array.from({ length: 8 }, async (_, client) => {
          for (let i = 0; i < 400; i++) {
            let answer: Answer;
            try {
              answer = await get(agent, appPort, `/files/files/f${(client + i) % 20}.txt`, headers);
            } catch {
              return; // refused or cut after the signal: no answer, no audit line owed
            }
            answers.push(answer);
            if (answers.length === 300 && !signalled) {
              signalled = true;
              sluice.child.kill('SIGTERM');
            }
          }
        }),
      );
      assert.ok(signalled, 'the signal was sent during the load');
      assert.equal(await sluice.exited, 0, sluice.output());
      const answered = answers.filter((a) => a.status === 200);
      assert.ok(answered.length >= 300, `${answered.length} answered`);
      const audited = new Set<string>();
      for (const line of sluice.output().split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { audit?: { requestId: string; decision: string } };
        if (entry.audit !== undefined) {
          assert.equal(entry.audit.decision, 'allow');
          audited.add(entry.audit.requestId);
        }
      }
      const missing = answered.filter((a) => a.requestId === undefined || !audited.has(a.requestId));
      assert.deepEqual(missing.length, 0, `${missing.length} of ${answered.length} answered requests have no audit line`);
      assert.match(sluice.output(), /sluice app stopped/, 'a line logged after close() is written at exit too');
    } finally {
      agent.destroy();
      sluice.child.kill('SIGKILL');
    }
  });
});
