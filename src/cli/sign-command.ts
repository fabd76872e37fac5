// `sluice sign share|transform`: links and URLs the running gateway accepts, for scripts and for
// other languages' integration tests.
import { Command, InvalidArgumentError } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { shareLink } from '../client/share-link.js';
import { signTransformPath } from '../client/transform-url.js';
import type { LinkKey } from '../sharing/link-token.js';
import { hasSharedState } from '../state/settings.js';

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
    .option('--max-downloads <n>', 'downloads allowed (needs redisUrl or redis on the gateway)', positiveInt)
    .option('--bound-to <sub>', "only usable together with this subject's token")
    .option('--base-url <url>', 'print a full URL (e.g. https://files.example.org)')
    .option('--json', 'print {url, token, id, expiresAt}')
    .action(async (options: ShareOptions) => {
      const config = loadConfig();
      if (config.sharing.keys.length === 0) throw new Error('sharing.keys is empty: nothing to sign with');
      if (!(options.store in config.stores)) throw new Error(`no store named "${options.store}"`);
      if (options.maxDownloads !== undefined && !hasSharedState(config)) {
        throw new Error('--max-downloads needs redisUrl or redis: without shared state the gateway cannot count downloads');
      }
      const link = await shareLink({
        key: config.sharing.keys[0] as LinkKey,
        store: options.store,
        ...(options.key !== undefined && { objectKey: options.key }),
        ...(options.prefix !== undefined && { prefix: options.prefix }),
        expiresInSeconds: options.expiresIn,
        maxExpiresInSeconds: config.sharing.maxExpiresInSeconds,
        ...(options.maxDownloads !== undefined && { maxDownloads: options.maxDownloads }),
        ...(options.boundTo !== undefined && { boundTo: options.boundTo }),
        routePrefix: `${options.baseUrl?.replace(/\/$/, '') ?? ''}${config.prefix}`,
      });
      write(options.json ? `${JSON.stringify(link)}\n` : `${link.url}\n`);
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
      write(`${signTransformPath(path, { keyHex: key, saltHex: salt, signatureSize, prefix: imgproxyPrefix })}\n`);
    });
  return command;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
