// Checks every delivery path must pass, whatever moves the bytes (nginx from disk, nginx from
// S3, the app streaming): one definition so fs and S3 suites cannot drift apart.
import assert from 'node:assert/strict';
import { request } from './http.js';

/** The 36-byte object every suite stores under its range-test key. */
export const RANGE_FIXTURE = '0123456789abcdefghijklmnopqrstuvwxyz';

export async function assertRangesAndHead(port: number, url: string, headers: Record<string, string>): Promise<void> {
  const first = await request(port, url, { headers: { ...headers, Range: 'bytes=0-6' } });
  assert.equal(first.status, 206);
  assert.equal(first.text(), '0123456');
  assert.equal(first.headers['content-range'], 'bytes 0-6/36');
  const suffix = await request(port, url, { headers: { ...headers, Range: 'bytes=-5' } });
  assert.equal(suffix.status, 206);
  assert.equal(suffix.text(), 'vwxyz');
  const head = await request(port, url, { method: 'HEAD', headers });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '36');
  assert.equal(head.body.length, 0);
}

export async function assertConditionalRequests(port: number, url: string, headers: Record<string, string>): Promise<void> {
  const full = await request(port, url, { headers });
  const etag = full.headers.etag as string;
  const lastModified = full.headers['last-modified'] as string;
  assert.ok(etag && lastModified, 'validators present');
  const inm = await request(port, url, { headers: { ...headers, 'If-None-Match': etag } });
  assert.equal(inm.status, 304);
  assert.equal(inm.body.length, 0);
  const ims = await request(port, url, { headers: { ...headers, 'If-Modified-Since': lastModified } });
  assert.equal(ims.status, 304);
}
