import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeSignature, signPath, signingKeys, verifySignature } from '../../src/transform/signature.js';

// Public vectors (imgproxy docs, Roundup's self-test, imgproxy's own tests).
const DOCS = {
  key: '736563726574',
  salt: '68656C6C6F',
  path: '/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png',
  signature: 'oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8',
};
const LONG = {
  key: '943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881',
  salt: '520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5',
  path: '/rs:fit:300:300/plain/http://img.example.com/pretty/image.jpg',
  signature: 'm3k5QADfcKPDj-SDI2AIogZbC3FlAXszuwhtWXYqavc',
  truncated: 'm3k5QADfcKM',
};

describe('imgproxy signatures', () => {
  it('matches the imgproxy documentation vector (hex key and salt)', () => {
    assert.equal(signPath(DOCS.path, DOCS.key, DOCS.salt), DOCS.signature);
  });

  it('matches the 32-byte vector and its 8-byte truncation', () => {
    assert.equal(signPath(LONG.path, LONG.key, LONG.salt), LONG.signature);
    assert.equal(signPath(LONG.path, LONG.key, LONG.salt, 8), LONG.truncated);
  });

  it('matches the raw-key vector through the lower-level function', () => {
    const signature = computeSignature(Buffer.from('test-key'), Buffer.from('test-salt'), '/rs:fill:4:4/plain/local:///test1.png');
    assert.equal(signature, 'My9d3xq_PYpVHsPrCyww0Kh1w5KZeZhIlWhsa4az1TI');
  });

  it('verifies against every configured pair (key rotation)', () => {
    const keys = signingKeys(['aa11', DOCS.key], ['bb22', DOCS.salt]);
    assert.equal(verifySignature(DOCS.signature, DOCS.path, keys, 32), true);
    assert.equal(verifySignature(DOCS.signature, DOCS.path, keys.slice(0, 1), 32), false);
  });

  it('verifies truncated signatures only at the configured size', () => {
    const keys = signingKeys([LONG.key], [LONG.salt]);
    assert.equal(verifySignature(LONG.truncated, LONG.path, keys, 8), true);
    assert.equal(verifySignature(LONG.signature, LONG.path, keys, 8), false, 'a longer signature is not accepted at size 8');
    assert.equal(verifySignature(LONG.truncated, LONG.path, keys, 32), false);
  });

  it('refuses tampered paths, tampered signatures and non-base64url text', () => {
    const keys = signingKeys([DOCS.key], [DOCS.salt]);
    assert.equal(verifySignature(DOCS.signature, DOCS.path.replace('300', '301'), keys, 32), false);
    assert.equal(verifySignature(`A${DOCS.signature.slice(1)}`, DOCS.path, keys, 32), false);
    assert.equal(verifySignature(`${DOCS.signature}=`, DOCS.path, keys, 32), false, 'padding is not part of the URL alphabet');
    assert.equal(verifySignature('oKfUtW34Dvo2BGQehJFR4Nr0/rIjOtdtzJ3QFsUcXH8', DOCS.path, keys, 32), false, 'standard base64 is not URL-safe base64');
    assert.equal(verifySignature('', DOCS.path, keys, 32), false);
  });
});
