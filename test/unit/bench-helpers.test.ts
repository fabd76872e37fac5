// The benchmark harness's measurement helpers: wrk output, sample statistics, SSIM.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWrk } from '../../bench/lib/clients.js';
import { ssim } from '../../bench/lib/ssim.js';
import { median, percentile, spread } from '../../bench/lib/stats.js';

describe('bench measurement helpers', () => {
  it('reads wrk output, units included', () => {
    const output = [
      'Running 1s test @ http://127.0.0.1:1/x',
      '  Latency Distribution',
      '     50%  250.00us',
      '     75%    1.20ms',
      '     99%    1.50s ',
      '  1200 requests in 2.00s, 12.00MB read',
      '  Non-2xx or 3xx responses: 3',
      'Requests/sec:    600.00',
    ].join('\n');
    assert.deepEqual(parseWrk(output), { requests: 1200, seconds: 2, rps: 600, p50Ms: 0.25, p99Ms: 1500, non2xx: 3, errors: 0 });
  });

  it('summarizes samples as median, min–max and nearest-rank percentiles', () => {
    assert.equal(median([3, 1, 2, 10]), 2.5);
    assert.deepEqual(spread([5, 1, 3]), { median: 3, min: 1, max: 5, n: 3 });
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
  });

  it('scores identical images SSIM 1 and a distorted one lower', () => {
    const data = Uint8Array.from({ length: 64 * 64 }, (_, i) => (i * 7) % 256);
    const noisy = data.map((v, i) => (i % 3 === 0 ? 255 - v : v));
    const image = { width: 64, height: 64, data };
    assert.equal(ssim(image, image), 1);
    assert.ok(ssim(image, { width: 64, height: 64, data: noisy }) < 0.9);
  });
});
