// `sluice token --sub alice --claim groups='["staff"]'`: prints a token the running gateway accepts.
import { Command, InvalidArgumentError } from 'commander';
import type { AuthConfig, JwtKeyConfig } from '../config/schema.js';
import { mintToken, parseClaimArgs, type HmacAlgorithm } from '../auth/mint.js';

interface TokenOptions {
  sub: string;
  ttl: number;
  claim: string[];
  kid?: string;
}

export function tokenCommand(loadAuthConfig: () => AuthConfig, write: (text: string) => void = (text) => process.stdout.write(text)): Command {
  return new Command('token')
    .description('mint a development token signed with the configured HS* secret')
    .requiredOption('--sub <sub>', 'subject (the "sub" claim)')
    .option('--ttl <seconds>', 'lifetime in seconds', parseTtl, 3600)
    .option('--claim <k=v>', 'extra claim; the value is parsed as JSON when it can be (repeatable)', collect, [])
    .option('--kid <kid>', 'use the HS* key with this kid and put it in the token header')
    .action(async (options: TokenOptions) => {
      const auth = loadAuthConfig();
      const key = signingKey(auth.keys, options.kid);
      const token = await mintToken({
        secret: key.secret,
        algorithm: key.algorithm,
        sub: options.sub,
        ttlSeconds: options.ttl,
        claims: parseClaimArgs(options.claim),
        ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
        ...(auth.audience === undefined ? {} : { audience: auth.audience }),
        ...(key.kid === undefined ? {} : { kid: key.kid }),
      });
      write(`${token}\n`);
    });
}

interface SigningKey {
  secret: string;
  algorithm: HmacAlgorithm;
  kid: string | undefined;
}

/** The first HS* key (or the one with --kid); its own kid goes into the header so verification finds it. */
function signingKey(keys: readonly JwtKeyConfig[], kid: string | undefined): SigningKey {
  const hmacKeys = keys.filter((key) => key.secret !== undefined);
  const key = kid === undefined ? hmacKeys[0] : hmacKeys.find((candidate) => candidate.kid === kid);
  if (key?.secret === undefined) {
    const which = kid === undefined ? 'an HS* key' : `an HS* key with kid "${kid}"`;
    throw new Error(`no secret to sign with: configure ${which} in auth.keys (or set SLUICE_JWT_SECRET)`);
  }
  const algorithm = key.algorithms.find((alg): alg is HmacAlgorithm => alg.startsWith('HS'));
  if (algorithm === undefined) throw new Error('auth.keys: a secret key must allow an HS* algorithm');
  return { secret: key.secret, algorithm, kid: kid ?? key.kid };
}

function parseTtl(value: string): number {
  const ttl = Number(value);
  if (!Number.isInteger(ttl) || ttl <= 0) throw new InvalidArgumentError('expected a positive whole number of seconds');
  return ttl;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
