import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { keysCommand } from '../../src/cli/keys-command.js';
import { signCommand } from '../../src/cli/sign-command.js';
import { validateConfig } from '../../src/config/load.js';
import { createLinkKeyRing } from '../../src/sharing/link-token.js';
import { signingKeys, verifySignature } from '../../src/transform/signature.js';

const SHARE_SECRET = 'share-link-secret-one-0123456789abcdef';
const KEY_HEX = '943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881';
const SALT_HEX = '520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5';

const config = validateConfig({
  stores: { docs: { type: 'fs', root: '.' } },
  sharing: { keys: [{ kid: 'k1', secret: SHARE_SECRET }] },
  transform: { enabled: true, keys: [KEY_HEX], salts: [SALT_HEX] },
});

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-ops-keys-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(
  build: (write: (t: string) => void) => { parseAsync(argv: string[], o: { from: 'user' }): Promise<unknown> },
  args: string[],
): Promise<string> {
  let out = '';
  await build((t) => void (out += t)).parseAsync(args, { from: 'user' });
  return out;
}

describe('sluice keys', () => {
  it('list shows kids and fingerprints, never secrets', async () => {
    const out = await run((w) => keysCommand(() => config, w), ['list']);
    assert.match(out, /^share\tk1\t[0-9a-f]{12}\tsigns$/m);
    assert.match(out, /^transform\t#0\t[0-9a-f]{12}\/[0-9a-f]{12}\tsigns$/m);
    for (const secret of [SHARE_SECRET, KEY_HEX, SALT_HEX]) assert.ok(!out.includes(secret));
  });

  it('rotate --kind share prints the new key first, then the old ones', async () => {
    const out = await run((w) => keysCommand(() => config, w), ['rotate', '--kind', 'share', '--kid', 'k2']);
    const keys = (parse(out) as { sharing: { keys: { kid: string; secret: string }[] } }).sharing.keys;
    assert.deepEqual(
      keys.map((k) => k.kid),
      ['k2', 'k1'],
    );
    assert.ok((keys[0]?.secret.length ?? 0) >= 32);
    await assert.rejects(
      run((w) => keysCommand(() => config, w), ['rotate', '--kind', 'share', '--kid', 'k1']),
      /already/,
    );
  });

  it('rotate --write updates the YAML file in place, keeping comments; the result validates', async () => {
    const file = path.join(dir, 'sluice.yaml');
    await writeFile(
      file,
      [
        '# operator notes stay',
        'stores:',
        '  docs: {type: fs, root: .}',
        'sharing:',
        '  keys:',
        `    - kid: k1 # the first key`,
        `      secret: ${SHARE_SECRET}`,
        'transform:',
        '  enabled: true',
        `  keys: "${KEY_HEX}"`,
        `  salts: "${SALT_HEX}"`,
        '',
      ].join('\n'),
    );
    await run((w) => keysCommand(() => config, w), ['rotate', '--kind', 'share', '--kid', 'k2', '--write', file]);
    await run((w) => keysCommand(() => config, w), ['rotate', '--kind', 'transform', '--write', file]);
    const text = await readFile(file, 'utf8');
    assert.match(text, /# operator notes stay/);
    assert.match(text, /kid: k1 # the first key/);
    const rotated = validateConfig(parse(text));
    assert.deepEqual(
      rotated.sharing.keys.map((k) => k.kid),
      ['k2', 'k1'],
    );
    assert.equal(rotated.transform.keys.length, 2);
    assert.equal(rotated.transform.keys[1], KEY_HEX);
    assert.equal(rotated.transform.salts[1], SALT_HEX);
  });
});

describe('sluice sign', () => {
  it('transform: an imgproxy path the configured keys verify', async () => {
    const signedPath = '/rs:fit:300:300/plain/local:///a.jpg@webp';
    const out = (await run((w) => signCommand(() => config, w), ['transform', signedPath])).trim();
    const match = /^\/img\/([A-Za-z0-9_-]+)(\/.*)$/.exec(out);
    assert.equal(match?.[2], signedPath);
    assert.ok(verifySignature(match?.[1] ?? '', signedPath, signingKeys([KEY_HEX], [SALT_HEX]), 32));
  });

  it('share: a link the key ring verifies, scoped to the key', async () => {
    const out = await run((w) => signCommand(() => config, w), ['share', '--store', 'docs', '--key', 'reports/q1 2026.pdf', '--expires-in', '60']);
    const match = /^\/files\/docs\/reports\/q1%202026\.pdf\?share=(.+)\n$/.exec(out);
    assert.ok(match !== null, out);
    const claims = await createLinkKeyRing(config.sharing.keys).verify(match[1] as string);
    assert.equal(claims.key, 'reports/q1 2026.pdf');
    assert.equal(claims.store, 'docs');
  });

  it('share: refuses unknown stores and lifetimes over the maximum', async () => {
    await assert.rejects(
      run((w) => signCommand(() => config, w), ['share', '--store', 'nope', '--key', 'a', '--expires-in', '60']),
      /no store/,
    );
    await assert.rejects(
      run((w) => signCommand(() => config, w), ['share', '--store', 'docs', '--key', 'a', '--expires-in', '99999999']),
      /at most/,
    );
  });
});
