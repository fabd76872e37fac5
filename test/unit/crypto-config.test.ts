// Encrypted stores in the config and in the rendered nginx config: ciphertext has no location of
// its own, downloads and uploads go through the worker, and bad settings fail at start-up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { withEncryptedDelivery } from '../../src/crypto/app-store.js';
import { CRYPT_TICKET_HEADER } from '../../src/contract/tickets.js';
import { verifyCryptTicket } from '../../src/crypto/ticket.js';
import { renderHttpInclude, renderServerInclude } from '../../src/nginx/render.js';
import { renderInput } from '../../src/cli/nginx-files.js';
import { createStores } from '../../src/storage/registry.js';
import { configError } from '../helpers/config-error.js';

const SECRET = 'w'.repeat(40);
const raw = {
  stores: {
    vault: { type: 'fs', root: '/srv/vault', encrypted: true },
    plain: { type: 'fs', root: '/srv/plain' },
    cloud: { type: 's3', bucket: 'b', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, encrypted: true },
  },
  uploads: { enabled: true },
  worker: { secret: SECRET },
};

describe('encrypted stores: configuration', () => {
  it('defaults: stores are plain, chunks are 64 KiB', () => {
    const config = validateConfig({ stores: { docs: { type: 'fs', root: '/srv' } } });
    assert.equal(config.stores.docs?.encrypted, false);
    assert.equal(config.encryption.chunkSize, 65536);
  });

  it('an encrypted store cannot use redirect or stream delivery (bytes would leave as ciphertext or pass the app)', () => {
    assert.match(
      configError(() => validateConfig({ stores: { v: { type: 'fs', root: '/srv', encrypted: true, delivery: 'stream' } } })),
      /stores\.v\.delivery \(SLUICE_STORES__V__DELIVERY\): encrypted stores are delivered through nginx and the worker/,
    );
    assert.match(
      configError(() => validateConfig({ stores: { v: { type: 's3', bucket: 'b', encrypted: true, delivery: 'redirect' } } })),
      /stores\.v\.delivery/,
    );
  });

  it('chunk sizes outside 4 KiB – 8 MiB are refused, naming the key', () => {
    assert.match(
      configError(() => validateConfig({ ...raw, encryption: { chunkSize: 1000 } })),
      /encryption\.chunkSize \(SLUICE_ENCRYPTION__CHUNK_SIZE\)/,
    );
  });

  it('the app needs the worker secret to hand out tickets', async () => {
    const config = validateConfig({ stores: { vault: { type: 'fs', root: '/tmp', encrypted: true } } });
    const stores = await createStores(config);
    assert.match(
      configError(() => withEncryptedDelivery(stores, config)),
      /worker\.secret \(SLUICE_WORKER__SECRET\): required for image transforms and encrypted stores/,
    );
  });

  it('the app redirects a download to the crypt location with a signed read ticket, and never reads bytes itself', async () => {
    const config = validateConfig({ ...raw, stores: { vault: { type: 'fs', root: '/tmp', encrypted: true } } });
    const stores = withEncryptedDelivery(await createStores(config), config);
    const vault = stores.get('vault');
    assert.ok(vault?.encrypted);
    const target = await vault.accelTarget({ segments: ['a', 'b.pdf'], value: 'a/b.pdf' }, 'GET');
    assert.equal(target.location, '/_sluice/crypt');
    const ticket = verifyCryptTicket(target.headers[CRYPT_TICKET_HEADER], 'read', SECRET);
    assert.deepEqual(ticket && { store: ticket.store, segments: ticket.segments }, { store: 'vault', segments: ['a', 'b.pdf'] });
    assert.equal(verifyCryptTicket(target.headers[CRYPT_TICKET_HEADER], 'write', SECRET), null, 'a read ticket is no write ticket');
    assert.equal(verifyCryptTicket(target.headers[CRYPT_TICKET_HEADER], 'read', 'x'.repeat(40)), null);
    await assert.rejects(vault.read({ segments: ['a'], value: 'a' }), /only the worker reads its bytes/);
  });
});

describe('encrypted stores: nginx rendering', () => {
  it('no internal location serves ciphertext; the crypt location and uploads go to the worker', async () => {
    const config = validateConfig(raw);
    const input = await renderInput(config, '127.0.0.1:3000');
    const server = renderServerInclude(input);
    assert.doesNotMatch(server, /_sluice\/fs\/vault/);
    assert.doesNotMatch(server, /_sluice\/s3\/cloud/);
    assert.match(server, /location \^~ \/_sluice\/fs\/plain\//);
    assert.match(server, /location = \/_sluice\/crypt \{\n    internal;/);
    assert.match(server, /proxy_pass http:\/\/sluice_worker\/crypt\/read;/);
    assert.match(
      server,
      /location \^~ \/files\/_uploads\/encrypted\/vault\/ \{\n    limit_except PUT \{ deny all; \}\n    auth_request \/_sluice\/upload-auth;/,
    );
    assert.match(server, /location \^~ \/files\/_uploads\/encrypted\/cloud\//);
    assert.match(server, /proxy_request_buffering off;/);
    // Encrypted fs stores never get the plaintext fs-upload offload.
    assert.doesNotMatch(server, /_uploads\/fs\/vault/);
    const crypt = /location = \/_sluice\/crypt \{[^}]*\}/.exec(server)?.[0] ?? '';
    assert.match(crypt, /proxy_pass_request_headers off;/);
    assert.match(crypt, /proxy_set_header Range \$http_range;/);
    const http = renderHttpInclude(input);
    assert.match(http, /upstream sluice_worker \{/);
    assert.doesNotMatch(http, /sluice_s3_cloud/);
    assert.doesNotMatch(http, /proxy_cache_path/, 'no transform cache without transforms');
  });
});
