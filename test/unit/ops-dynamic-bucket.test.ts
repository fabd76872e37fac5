import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import {
  bucketForPeriod,
  granularityOf,
  locateObject,
  nextPeriod,
  periodOf,
  suffixFor,
  templateProblems,
  writeTarget,
} from '../../src/config/dynamic-bucket.js';

const SECRET = 'dynamic-bucket-secret-0123456789abcdef';
const utc = (iso: string): Date => new Date(iso);

describe('dynamic bucket periods', () => {
  it('the finest placeholder sets the period', () => {
    assert.equal(granularityOf('m-<year>-<suffix>'), 'year');
    assert.equal(granularityOf('m-<year>-<month>-<suffix>'), 'month');
    assert.equal(granularityOf('m-<year>-<week>-<suffix>'), 'week');
  });

  it('periods are UTC; ISO weeks belong to their ISO year', () => {
    assert.equal(periodOf('month', utc('2026-11-30T23:59:59Z')), '2026-11');
    assert.equal(periodOf('month', utc('2026-12-01T00:00:00Z')), '2026-12');
    assert.equal(periodOf('year', utc('2026-12-31T23:59:59Z')), '2026');
    assert.equal(periodOf('week', utc('2026-11-24T12:00:00Z')), '2026-W48');
    assert.equal(periodOf('week', utc('2026-12-31T12:00:00Z')), '2026-W53');
    assert.equal(periodOf('week', utc('2027-01-04T00:00:00Z')), '2027-W01');
    assert.equal(periodOf('week', utc('2024-12-30T00:00:00Z')), '2025-W01');
  });

  it('the next period rolls over months, years and ISO weeks', () => {
    assert.equal(nextPeriod('month', '2026-12'), '2027-01');
    assert.equal(nextPeriod('month', '2026-01'), '2026-02');
    assert.equal(nextPeriod('year', '2026'), '2027');
    assert.equal(nextPeriod('week', '2026-W48'), '2026-W49');
    assert.equal(nextPeriod('week', '2026-W53'), '2027-W01');
    assert.equal(nextPeriod('week', '2024-W52'), '2025-W01');
  });
});

describe('dynamic bucket names', () => {
  it('fill the template with the period and a secret-derived suffix', () => {
    const name = bucketForPeriod('media-<year>-<month>-<suffix>', SECRET, '2026-11');
    assert.equal(name, `media-2026-11-${suffixFor(SECRET, '2026-11')}`);
    assert.match(name, /^media-2026-11-[0-9a-f]{10}$/);
    assert.equal(bucketForPeriod('media-<year>-<week>-<suffix>', SECRET, '2026-W48'), `media-2026-w48-${suffixFor(SECRET, '2026-W48')}`);
  });

  it('differ per period and per secret', () => {
    assert.notEqual(suffixFor(SECRET, '2026-11'), suffixFor(SECRET, '2026-12'));
    assert.notEqual(suffixFor(SECRET, '2026-11'), suffixFor(`${SECRET}x`, '2026-11'));
  });

  it('templates are checked', () => {
    assert.deepEqual(templateProblems('media-<year>-<month>-<suffix>', SECRET), []);
    assert.ok(templateProblems('media-<month>-<suffix>', SECRET).some((p) => p.includes('<year>')));
    assert.ok(templateProblems('media-<year>-<month>', SECRET).some((p) => p.includes('guessed')));
    assert.ok(templateProblems('media-<year>-<suffix>', undefined).some((p) => p.includes('bucketSecret')));
    assert.ok(templateProblems('Media_<year>-<suffix>', SECRET).some((p) => p.includes('not a valid bucket name')));
    assert.ok(templateProblems('media-<year>-<day>-<suffix>', SECRET).some((p) => p.includes('unknown placeholder')));
  });
});

describe('locating objects', () => {
  const settings = { bucket: 'legacy', bucketTemplate: 'media-<year>-<month>-<suffix>', bucketSecret: SECRET };

  it('a leading period segment picks the bucket and is stripped', () => {
    assert.deepEqual(locateObject(settings, '2026-11/scans/a.pdf'), {
      Bucket: bucketForPeriod(settings.bucketTemplate, SECRET, '2026-11'),
      Key: 'scans/a.pdf',
    });
  });

  it('anything else stays in the static bucket, unchanged', () => {
    for (const key of ['scans/a.pdf', '2026-13/a.pdf', '2026-W48/a.pdf', '2026-11', '2026/a.pdf']) {
      assert.deepEqual(locateObject(settings, key), { Bucket: 'legacy', Key: key }, key);
    }
    assert.deepEqual(locateObject({ bucket: 'plain' }, '2026-11/a'), { Bucket: 'plain', Key: '2026-11/a' });
  });

  it('writes go to the current period', () => {
    assert.deepEqual(writeTarget(settings, utc('2026-11-30T23:59:59Z')), {
      period: '2026-11',
      bucket: bucketForPeriod(settings.bucketTemplate, SECRET, '2026-11'),
    });
  });
});

describe('configuration', () => {
  const store = (extra: Record<string, unknown>): Record<string, unknown> => ({
    stores: { media: { type: 's3', bucket: 'legacy', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, ...extra } },
  });

  it('accepts a dynamic store', () => {
    const config = validateConfig(store({ bucketTemplate: 'media-<year>-<month>-<suffix>', bucketSecret: SECRET }));
    const media = config.stores.media;
    assert.equal(media?.type === 's3' ? media.bucketTemplate : undefined, 'media-<year>-<month>-<suffix>');
  });

  it('names the key of a bad template, a short secret, or virtual-hosted addressing', () => {
    assert.throws(
      () => validateConfig(store({ bucketTemplate: 'media-<year>', bucketSecret: SECRET })),
      (e: Error) => e instanceof ConfigError && e.message.includes('stores.media.bucketTemplate'),
    );
    assert.throws(
      () => validateConfig(store({ bucketTemplate: 'media-<year>-<suffix>', bucketSecret: 'short' })),
      (e: Error) => e instanceof ConfigError && e.message.includes('stores.media.bucketSecret'),
    );
    assert.throws(
      () => validateConfig(store({ bucketTemplate: 'media-<year>-<suffix>', bucketSecret: SECRET, forcePathStyle: false })),
      (e: Error) => e instanceof ConfigError && e.message.includes('stores.media.forcePathStyle'),
    );
  });
});
