// docker-compose.yml is valid (Debian's docker-compose, no daemon needed for `config`), names
// the services users expect with healthchecks, and the nginx config it mounts passes `nginx -t`
// here — with the compose service names (which do not resolve outside compose) mapped to 127.0.0.1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';

const execFileAsync = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: (string | { source?: string; target?: string })[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }> | string[];
  network_mode?: string;
  ports?: unknown[];
  container_name?: string;
}

let tmp: string;
let services: Record<string, ComposeService>;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sluice-compose-'));
  // `config` resolves and validates the file (interpolation, depends_on, volumes) and prints it.
  const { stdout } = await execFileAsync('docker-compose', ['-f', path.join(REPO, 'docker-compose.yml'), 'config'], { cwd: REPO });
  services = (parse(stdout) as { services: Record<string, ComposeService> }).services;
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  it('passes `docker-compose config -q`', async () => {
    const { stdout, stderr } = await execFileAsync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: REPO });
    assert.equal(stdout, '');
    assert.doesNotMatch(stderr, /error/i);
  });

  it('has nginx, the app, the worker, MinIO (+ bucket), Redis and the demo, with healthchecks', () => {
    assert.deepEqual(Object.keys(services).sort(), ['app', 'demo', 'minio', 'minio-setup', 'nginx', 'redis', 'worker']);
    for (const name of ['app', 'minio', 'redis', 'demo']) assert.ok(services[name]?.healthcheck?.test.length, `${name} healthcheck`);
    assert.match((services['minio-setup']?.command ?? []).join(' '), /mc mb --ignore-existing local\/media/);
    // The worker is a service of its own (compose DNS finds its replicas), not inside nginx's namespace.
    assert.equal(services.worker?.network_mode, undefined);
    assert.ok(services.worker?.healthcheck?.test.join(' ').includes('/healthz'), 'worker healthcheck');
    // The demo and Sluice agree on the token secret; the demo's imgproxy key/salt are Sluice's.
    assert.equal(services.demo?.environment?.SLUICE_JWT_SECRET, services.app?.environment?.SLUICE_JWT_SECRET);
  });

  it('app and worker have no fixed container name and no published host port (replicas would collide)', () => {
    for (const name of ['app', 'worker']) {
      const service = services[name];
      assert.ok(service !== undefined, name);
      assert.equal(service.container_name, undefined, `${name} container_name`);
      assert.equal(service.ports, undefined, `${name} publishes a host port`);
    }
  });

  it('nginx reaches every app replica (`--scale app=3`): its upstream names the compose service, whose DNS lists them all', async () => {
    const http = await readFile(path.join(REPO, 'nginx', 'compose', 'sluice-http.conf'), 'utf8');
    const upstream = /^upstream sluice_app \{([^}]*)\}/m.exec(http)?.[1] ?? '';
    const servers = [...upstream.matchAll(/^\s*server\s+([^;\s]+)/gm)].map((m) => m[1]);
    assert.deepEqual(servers, ['app:3000']);
  });

  it('nginx reaches every worker replica (`--scale worker=2`): its upstream names the compose service, the worker listens beyond loopback', async () => {
    const http = await readFile(path.join(REPO, 'nginx', 'compose', 'sluice-http.conf'), 'utf8');
    const upstream = /^upstream sluice_worker \{([^}]*)\}/m.exec(http)?.[1] ?? '';
    const servers = [...upstream.matchAll(/^\s*server\s+([^;\s]+)/gm)].map((m) => m[1]);
    const sluice = parse(await readFile(path.join(REPO, 'deploy/sluice.compose.yaml'), 'utf8')) as { worker: { host: string; port: number } };
    assert.deepEqual(servers, [`worker:${sluice.worker.port}`]);
    // Replicas each listen in their own container; loopback there would be unreachable for nginx.
    assert.equal(sluice.worker.host, '0.0.0.0');
    // nginx resolves `worker` when it starts: the worker must be up by then.
    assert.deepEqual((services.nginx?.depends_on as Record<string, { condition: string }>).worker, { condition: 'service_healthy' });
  });

  it('the demo matches the Sluice config it talks to (store, imgproxy key/salt, share rule)', async () => {
    const sluice = parse(await readFile(path.join(REPO, 'deploy/sluice.compose.yaml'), 'utf8')) as {
      stores: Record<string, unknown>;
      transform: { keys: string[]; salts: string[] };
      rules: { key: string; actions: string[] }[];
    };
    const demo = services.demo?.environment ?? {};
    assert.ok(sluice.stores[demo.DEMO_STORE ?? ''] !== undefined);
    assert.deepEqual([demo.DEMO_IMGPROXY_KEY, demo.DEMO_IMGPROXY_SALT], [sluice.transform.keys[0], sluice.transform.salts[0]]);
    assert.ok(sluice.rules.some((r) => r.key.startsWith('users/:owner') && r.actions.includes('share')));
    assert.match(services.app?.environment?.SLUICE_SHARING__KEYS ?? '', /"secret":/);
  });

  it('mounts nginx/compose, whose nginx.conf passes nginx -t with the service names mapped to 127.0.0.1', async () => {
    const mount = (services.nginx?.volumes ?? [])
      .map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`))
      .find((v) => v.includes('/etc/nginx/sluice'));
    assert.ok(mount !== undefined);
    assert.equal(path.resolve(REPO, mount.split(':')[0] as string), path.join(REPO, 'nginx', 'compose'));
    const command = (services.nginx?.command ?? []).join(' ');
    assert.match(command, /nginx -c \/etc\/nginx\/sluice\/nginx\.conf/);

    const serviceNames = new Set(Object.keys(services));
    const conf = path.join(tmp, 'conf');
    const runtime = path.join(tmp, 'run');
    await mkdir(path.join(runtime, 'tmp'), { recursive: true });
    await mkdir(conf);
    const upstreamHosts = new Set<string>();
    for (const file of await readdir(path.join(REPO, 'nginx', 'compose'))) {
      let text = await readFile(path.join(REPO, 'nginx', 'compose', file), 'utf8');
      text = text.replace(/^(\s*server\s+)([a-z][\w.-]*):(\d+);/gm, (_, lead: string, host: string, port: string) => {
        upstreamHosts.add(host);
        return `${lead}127.0.0.1:${port};`;
      });
      // The container paths of the mount and of the runtime dir (`mkdir -p /tmp/nginx/tmp` in the command).
      text = text.replaceAll('/etc/nginx/sluice', conf).replaceAll('/tmp/nginx', runtime);
      await writeFile(path.join(conf, file), text);
    }
    // Every upstream host is a compose service (nothing else would resolve inside compose).
    assert.ok(upstreamHosts.size > 0);
    for (const host of upstreamHosts) assert.ok(serviceNames.has(host), `upstream host ${host} is not a compose service`);
    assert.ok(upstreamHosts.has('app'));
    assert.ok(upstreamHosts.has('worker'));
    const { stderr } = await execFileAsync(NGINX, ['-t', '-p', runtime, '-c', path.join(conf, 'nginx.conf')]);
    assert.match(stderr, /syntax is ok/);
    assert.match(stderr, /test is successful/);
  });

  it('the server include never exposes the operational routes', async () => {
    const server = await readFile(path.join(REPO, 'nginx', 'compose', 'sluice-server.conf'), 'utf8');
    const locations = [...server.matchAll(/^location\s+(?:[=^~]+\s+)?(\S+)\s*\{/gm)].map((m) => m[1] as string);
    assert.ok(locations.length > 0);
    for (const location of locations) assert.doesNotMatch(location, /metrics|healthz|readyz|ping|^\/$/, location);
  });
});
