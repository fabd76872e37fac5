// The `sluice` command as an operator runs it: a real process, real nginx.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { spawnSluice, type SluiceProcess } from '../helpers/cli-process.js';
import { request } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';

const execFileAsync = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts')];

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sluice-cli-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [...CLI, ...args], { cwd: REPO, env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('sluice CLI', () => {
  it('refuses bad configuration at start-up with a message naming the setting, no stack trace', async () => {
    const result = await runCli(['serve'], { SLUICE_STORES__DOCS__TYPE: 'fs', SLUICE_STORES__DOCS__ROOT: path.join(tmp, 'missing'), SLUICE_APP_PORT: 'x' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /appPort \(SLUICE_APP_PORT\)/);
    assert.doesNotMatch(result.stderr, /^\s+at /m);
    const missingRoot = await runCli(['serve'], { SLUICE_STORES__DOCS__TYPE: 'fs', SLUICE_STORES__DOCS__ROOT: path.join(tmp, 'missing') });
    assert.equal(missingRoot.code, 1);
    assert.match(missingRoot.stderr, /stores\.docs\.root \(SLUICE_STORES__DOCS__ROOT\)/);
    assert.doesNotMatch(missingRoot.stderr, /^\s+at /m);
  });

  it('nginx-config writes includes and a full config that nginx accepts', async () => {
    const out = path.join(tmp, 'nginx');
    const result = await runCli(['nginx-config', '--out', out, '--full', '--app', '127.0.0.1:3999'], {
      SLUICE_STORES__DOCS__TYPE: 'fs',
      SLUICE_STORES__DOCS__ROOT: tmp,
      SLUICE_PORT: String(await freePort()),
    });
    assert.equal(result.code, 0, result.stderr);
    for (const file of ['sluice-http.conf', 'sluice-server.conf', 'nginx.conf']) assert.ok(existsSync(path.join(out, file)), file);
    assert.match(await readFile(path.join(out, 'sluice-http.conf'), 'utf8'), /server 127\.0\.0\.1:3999;/);
    const nginx = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
    await execFileAsync(nginx, ['-t', '-q', '-p', path.join(out, 'run'), '-c', path.join(out, 'nginx.conf')]);
  });

  it('token prints a JWT from SLUICE_JWT_SECRET without any store configured', async () => {
    const result = await runCli(['token', '--sub', 'alice', '--ttl', '60'], { SLUICE_JWT_SECRET: 'k'.repeat(32) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });
});

describe('embedded default (what `npm start` runs)', () => {
  let sluice: SluiceProcess | undefined;

  after(() => {
    if (sluice?.child.exitCode === null) sluice.child.kill('SIGKILL');
  });

  it('starts nginx + app, prints a working curl line, and stops everything on Ctrl-C', async () => {
    const port = await freePort();
    sluice = spawnSluice(['dev', '--data', path.join(tmp, 'data'), '--state', path.join(tmp, 'state')], {
      SLUICE_PORT: String(port),
      SLUICE_LOG_LEVEL: 'warn',
    });
    const output = await sluice.waitFor(/curl -fsS/, 30_000);
    const curl = /curl -fsS -H 'Authorization: Bearer ([^']+)' 'http:\/\/127\.0\.0\.1:(\d+)([^']+)'/.exec(output);
    assert.ok(curl, `no curl line in:\n${output}`);
    assert.equal(Number(curl[2]), port);
    const res = await request(port, curl[3] as string, { headers: { Authorization: `Bearer ${curl[1]}` } });
    assert.equal(res.status, 200);
    assert.match(res.text(), /Hello from Sluice/);
    const pdf = await request(port, `/files/demo/${encodeURIComponent('Jahresbericht 2026 – Übersicht.pdf')}`, {
      headers: { Authorization: `Bearer ${curl[1]}` },
    });
    assert.equal(pdf.status, 200);
    assert.equal(pdf.body.subarray(0, 5).toString(), '%PDF-');
    assert.match(pdf.headers['content-disposition'] as string, /filename\*=UTF-8''Jahresbericht%202026%20%E2%80%93%20%C3%9Cbersicht\.pdf/);
    const png = await request(port, '/files/demo/gradient.png', { headers: { Authorization: `Bearer ${curl[1]}` } });
    assert.deepEqual([...png.body.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.equal((await request(port, '/files/demo/hello.txt')).status, 401, 'no token, no file');

    sluice.child.kill('SIGINT');
    assert.equal(await sluice.exited, 0);
    await assert.rejects(request(port, '/files/demo/hello.txt'), 'nginx is gone too');
  });
});
