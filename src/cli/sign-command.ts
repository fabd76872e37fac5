// `sluice sign share|transform`: links and URLs the running gateway accepts, for scripts and for
// other languages' integration tests.
import { Command, InvalidArgumentError } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { createLinkKeyRing } from '../sharing/link-token.js';
import { linkScope, parseMintRequest } from '../sharing/mint.js';
import { signPath } from '../transform/signature.js';

interface ShareOptions {
  store: string;
  key?: string;
  prefix?: string;
  expiresIn: number;
  maxDownloads?: number;
  boundTo?: string;
  baseUrl?: string;
  json?: boolean;
}

export function signCommand(loadConfig: () => SluiceConfig, write: (text: string) => void = (t) => process.stdout.write(t)): Command {
  const command = new Command('sign').description('mint share links and signed transform URLs');
  command
    .command('share')
    .description('a share link signed with the first sharing.keys entry')
    .requiredOption('--store <store>', 'store name')
    .option('--key <key>', 'one key (decoded, e.g. "reports/q1 2026.pdf")')
    .option('--prefix <prefix>', 'every key under this folder')
    .requiredOption('--expires-in <seconds>', 'lifetime', positiveInt)
    .option('--max-downloads <n>', 'downloads allowed (needs redisUrl on the gateway)', positiveInt)
    .option('--bound-to <sub>', 'only usable together with this subject\'s token')
    .option('--base-url <url>', 'print a full URL (e.g. https://files.example.org)')
    .option('--json', 'print {url, token, id, expiresAt}')
    .action(async (options: ShareOptions) => {
      const config = loadConfig();
      if (config.sharing.keys.length === 0) throw new Error('sharing.keys is empty: nothing to sign with');
      if (!(options.store in config.stores)) throw new Error(`no store named "${options.store}"`);
      if (options.maxDownloads !== undefined && config.redisUrl === undefined) {
        throw new Error('--max-downloads needs redisUrl: without shared state the gateway cannot count downloads');
      }
      const request = parseMintRequest(
        {
          store: options.store,
          ...(options.key !== undefined && { key: options.key }),
          ...(options.prefix !== undefined && { prefix: options.prefix }),
          expiresIn: options.expiresIn,
          ...(options.maxDownloads !== undefined && { maxDownloads: options.maxDownloads }),
          ...(options.boundTo !== undefined && { boundTo: options.boundTo }),
        },
        config.sharing.maxExpiresInSeconds,
      );
      const scope = linkScope(request);
      const { token, claims } = await createLinkKeyRing(config.sharing.keys).sign({
        store: scope.store,
        ...(scope.key !== undefined && { key: scope.key.value }),
        ...(scope.prefix !== undefined && { prefix: scope.prefix.value }),
        expiresAt: Math.floor(Date.now() / 1000) + request.expiresIn,
        ...(request.maxDownloads !== undefined && { maxDownloads: request.maxDownloads }),
        ...(request.boundTo !== undefined && { boundTo: request.boundTo }),
      });
      const keyPath = (scope.key ?? scope.prefix)?.segments.map(encodeURIComponent).join('/') ?? '';
      // A prefix link works for any key below the folder: the path shows the folder to append to.
      const url = `${options.baseUrl?.replace(/\/$/, '') ?? ''}${config.prefix}/${scope.store}/${keyPath}${scope.prefix === undefined ? '' : '/'}?share=${token}`;
      write(options.json ? `${JSON.stringify({ url, token, id: claims.id, expiresAt: claims.expiresAt })}\n` : `${url}\n`);
    });
  command
    .command('transform')
    .description('an imgproxy-style URL path signed with the first transform.keys/salts pair')
    .argument('<path>', 'options and source, e.g. /rs:fit:300:300/plain/local:///a.jpg@webp')
    .action((path: string) => {
      const config = loadConfig();
      const { keys, salts, signatureSize, imgproxyPrefix } = config.transform;
      const key = keys[0];
      const salt = salts[0];
      if (key === undefined || salt === undefined) throw new Error('transform.keys/salts are empty: nothing to sign with');
      if (!path.startsWith('/')) throw new Error('the path must start with "/"');
      write(`${imgproxyPrefix}/${signPath(path, key, salt, signatureSize)}${path}\n`);
    });
  return command;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
