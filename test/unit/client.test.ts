import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shareLink, signTransformPath, signTransformUrl } from '../../src/client/index.js';
import { validateConfig } from '../../src/config/load.js';
import { createLinkKeyRing } from '../../src/sharing/link-token.js';
import { parseImgproxyPath } from '../../src/transform/url.js';

const KEY = '943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881';
const SALT = '520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5';

describe('client API: signTransformUrl / signTransformPath', () => {
  it('signs exactly like imgproxy (public test vector, full and truncated)', () => {
    const path = '/rs:fit:300:300/plain/http://img.example.com/pretty/image.jpg';
    assert.equal(signTransformPath(path, { keyHex: KEY, saltHex: SALT }), `/img/m3k5QADfcKPDj-SDI2AIogZbC3FlAXszuwhtWXYqavc${path}`);
    assert.equal(
      signTransformPath(path, { keyHex: KEY, saltHex: SALT, signatureSize: 8, prefix: 'https://cdn.example/i' }),
      `https://cdn.example/i/m3k5QADfcKM${path}`,
    );
  });

  it("builds URLs that Sluice's own parser accepts, in base64 and plain form", () => {
    const config = validateConfig({
      stores: { photos: { type: 'fs', root: '/srv/photos' } },
      transform: { enabled: true, keys: [KEY], salts: [SALT], localStore: 'photos' },
      worker: { secret: 'w'.repeat(32) },
    }).transform;
    for (const encoding of ['base64', 'plain'] as const) {
      const url = signTransformUrl({
        keyHex: KEY,
        saltHex: SALT,
        options: ['rs:fit:400:300', 'q:70'],
        source: 'local:///a b/ü #1.jpg',
        extension: 'webp',
        encoding,
      });
      const parsed = parseImgproxyPath(url.slice('/img'.length), config);
      assert.deepEqual(parsed.source, { kind: 'local', path: 'a b/ü #1.jpg' }, encoding);
      assert.equal(parsed.plan.format, 'webp');
      assert.equal(parsed.plan.width, 400);
      assert.equal(parsed.plan.quality, 70);
    }
  });
});

describe('client API: shareLink', () => {
  const key = { kid: 'k1', secret: 's'.repeat(40) };

  it('mints a link the gateway key ring verifies, scoped to one key', async () => {
    const link = await shareLink({ key, store: 'docs', objectKey: 'reports/q1 2026.pdf', expiresInSeconds: 600 });
    assert.match(link.url, /^\/files\/docs\/reports\/q1%202026\.pdf\?share=[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = await createLinkKeyRing([key]).verify(link.token);
    assert.equal(claims.store, 'docs');
    assert.equal(claims.key, 'reports/q1 2026.pdf');
    assert.equal(claims.id, link.id);
    assert.ok(Math.abs(link.expiresAt - (Date.now() / 1000 + 600)) < 5);
  });

  it('refuses lifetimes above the maximum and keys that are not clean', async () => {
    await assert.rejects(shareLink({ key, store: 'docs', objectKey: 'a.pdf', expiresInSeconds: 3600, maxExpiresInSeconds: 60 }));
    await assert.rejects(shareLink({ key, store: 'docs', objectKey: '../etc/passwd', expiresInSeconds: 60 }));
  });
});
