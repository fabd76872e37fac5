// openapi.yaml: valid OpenAPI 3.1 in shape, and every route the app registers (with every
// feature switched on) is documented with its methods.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type Router from '@koa/router';
import Koa from 'koa';
import { parse } from 'yaml';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSluice, type RunningSluice } from '../../src/server.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, Record<string, unknown>>;
}

interface Route {
  readonly path: string;
  readonly methods: string[];
}

let doc: OpenApi;
let routes: Route[];
let dir: string;
let app: RunningSluice;

/** "/files/{*rest}" (path-to-regexp) and "/files/{store}/{key}" (OpenAPI) → comparable shapes. */
function routeToRegExp(routePath: string): RegExp {
  const pattern = routePath
    .split(/(\{\*\w+\}|:\w+)/)
    .map((part) => (part.startsWith('{*') ? '.+' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^$()[\]\\|]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`);
}

/** An OpenAPI path with sample values filled in, as a request path the router would match. */
function samplePath(openApiPath: string): string {
  return openApiPath.replace(/\{(\w+)\}/g, (_, name: string) => `sample-${name}`);
}

before(async () => {
  doc = parse(await readFile(path.join(REPO, 'openapi.yaml'), 'utf8')) as OpenApi;
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-openapi-'));
  // Every optional router on: transforms, share API, auth_request, uploads.
  const config = validateConfig({
    host: '127.0.0.1',
    appPort: 0,
    stores: { docs: { type: 'fs', root: dir } },
    auth: { keys: [{ algorithms: ['HS256'], secret: 'openapi-test-secret-0123456789abcdef' }] },
    transform: { enabled: true, keys: ['736c75696365'], salts: ['73616c74'], localStore: 'docs' },
    worker: { secret: 'openapi-worker-secret-0123456789abcdef' },
    sharing: { keys: [{ kid: 'k1', secret: 'openapi-share-secret-0123456789abcdef' }], authRequest: { locations: { '/protected': 'docs' } } },
    uploads: { enabled: true },
  });
  // The composition root keeps its Koa app private: catch it as it starts listening.
  const listen = Koa.prototype.listen;
  let captured: Koa | undefined;
  Koa.prototype.listen = function (this: Koa, ...args: Parameters<Koa['listen']>) {
    captured = this;
    return listen.apply(this, args);
  } as Koa['listen'];
  try {
    app = await startSluice(config, { logger: createLogger('silent') });
  } finally {
    Koa.prototype.listen = listen;
  }
  assert.ok(captured !== undefined);
  routes = captured.middleware
    .map((mw) => (mw as { router?: Router }).router)
    .filter((router): router is Router => router !== undefined)
    .flatMap((router) =>
      router.stack
        .filter((layer) => layer.methods.length > 0)
        .map((layer) => ({ path: String(layer.path), methods: layer.methods.map((m) => m.toLowerCase()) })),
    );
});

after(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('openapi.yaml', () => {
  it('parses as an OpenAPI 3.1 document whose references all resolve', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.title, 'Sluice');
    const text = JSON.stringify(doc);
    const refs = [...text.matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)];
    assert.ok(refs.length > 10);
    for (const [, kind, name] of refs) assert.ok(doc.components[kind as string]?.[name as string] !== undefined, `unresolved #/components/${kind}/${name}`);
    for (const [p, item] of Object.entries(doc.paths)) {
      assert.ok(p.startsWith('/'), p);
      for (const [method, operation] of Object.entries(item)) {
        if (method === 'parameters') continue;
        assert.ok((METHODS as readonly string[]).includes(method), `${p}: ${method}`);
        assert.ok(typeof (operation as { responses?: unknown }).responses === 'object', `${p} ${method}: responses`);
        // Every {param} in the path is declared (on the operation or the path item).
        const declared = [
          ...((item.parameters as { name: string }[] | undefined) ?? []),
          ...((operation as { parameters?: { name: string; $ref?: string }[] }).parameters ?? []),
        ].map(
          (param) =>
            param.name ??
            (
              doc.components.parameters?.[
                String((param as { $ref?: string }).$ref)
                  .split('/')
                  .pop() as string
              ] as { name: string } | undefined
            )?.name ??
            '',
        );
        for (const [, name] of p.matchAll(/\{(\w+)\}/g)) assert.ok(declared.includes(name as string), `${p} ${method}: {${name}} not declared`);
      }
    }
  });

  it('documents every route the app registers, with its methods', () => {
    const paths = Object.keys(doc.paths);
    assert.ok(routes.length >= 9, JSON.stringify(routes));
    for (const route of routes) {
      const matcher = routeToRegExp(route.path);
      const documented = paths.filter((p) => matcher.test(samplePath(p)));
      assert.ok(documented.length > 0, `route ${route.path} is not in openapi.yaml`);
      for (const method of route.methods) {
        assert.ok(
          documented.some((p) => doc.paths[p]?.[method] !== undefined || (method === 'head' && doc.paths[p]?.get !== undefined)),
          `${method.toUpperCase()} ${route.path} is not in openapi.yaml`,
        );
      }
    }
  });

  it('is served as JSON at /openapi.json on the app port', async () => {
    const res = await fetch(`http://${app.address}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), doc);
  });

  it('documents nothing the app does not serve', () => {
    for (const p of Object.keys(doc.paths)) {
      const served = routes.some((route) => routeToRegExp(route.path).test(samplePath(p)));
      assert.ok(served, `openapi.yaml documents ${p}, which no route serves`);
    }
  });
});
