// docs/configuration.md is generated from the settings' zod schemas (scripts/config-docs.ts), as
// the nginx examples are from the renderer: these tests keep the page and the schemas one thing.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { CONFIG_DOC, renderConfigReference, settingRows } from '../../scripts/config-docs.js';
import { envNameFor } from '../../src/config/errors.js';
import { configFromEnv } from '../../src/config/env.js';

describe('configuration reference (docs/configuration.md)', () => {
  it('the committed page is exactly what the schemas generate', async () => {
    const committed = await readFile(CONFIG_DOC, 'utf8');
    assert.equal(committed, renderConfigReference(), 'docs/configuration.md is stale: run npm run docs:config');
  });

  it('every setting has a description on its schema field', () => {
    const missing = settingRows()
      .filter((row) => row.description === undefined || row.description.trim() === '')
      .map((row) => row.path);
    assert.deepEqual(missing, [], 'add .describe() to these fields in src/config/*schema.ts');
  });

  it('documents the settings every deployment touches, with their variables and defaults', () => {
    const rows = new Map(settingRows().map((row) => [row.path, row]));
    assert.equal(rows.get('appPort')?.defaultText, '`3000`');
    assert.equal(rows.get('appPort')?.env, '`SLUICE_APP_PORT`');
    assert.equal(rows.get('stores.<name>.root (fs)')?.env, '`SLUICE_STORES__<NAME>__ROOT`');
    assert.equal(rows.get('stores.<name>.presignTtlSeconds (s3)')?.defaultText, '`60`');
    assert.equal(rows.get('rules[].effect')?.env, 'in `SLUICE_RULES`');
    // Computed defaults are words, never this machine's numbers.
    assert.equal(rows.get('worker.concurrency')?.defaultText, 'one per core');
  });

  it('each documented variable sets the setting it is listed for', () => {
    for (const row of settingRows()) {
      if (row.env.startsWith('in ')) continue;
      const path = row.path
        .replace(/ \(.*\)$/, '')
        .replaceAll('<name>', 'docs')
        .split('.');
      const name = envNameFor(path);
      assert.equal(row.env, `\`${envNameFor(row.path.replace(/ \(.*\)$/, '').split('.'))}\``, row.path);
      const tree = configFromEnv({ [name]: 'x' });
      let node: unknown = tree;
      for (const segment of path) node = (node as Record<string, unknown>)[segment];
      assert.notEqual(node, undefined, `${name} does not reach ${row.path}`);
    }
  });
});
