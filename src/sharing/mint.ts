// Minting a share link: the request body, validated; the scope turned into canonical keys
// exactly as a download path would be; the signed link recorded for its creator.
import { z } from 'zod';
import type { Subject } from '../auth/types.js';
import { badRequest } from '../errors.js';
import { canonicalizeKey } from '../storage/key.js';
import type { CanonicalKey } from '../storage/types.js';
import type { LinkClaims, LinkKeyRing } from './link-token.js';
import { countingUnavailable, type SharingState } from './state.js';

export const mintRequestSchema = z
  .strictObject({
    store: z.string().min(1).max(64),
    /** Decoded key ("reports/2024 q1.pdf"), never percent-encoded. */
    key: z.string().min(1).max(1024).optional(),
    /** Every key under this folder ("users/alice" or "users/alice/"). */
    prefix: z.string().min(1).max(1024).optional(),
    expiresIn: z.number().int().min(1),
    maxDownloads: z.number().int().min(1).max(1_000_000).optional(),
    boundTo: z.string().min(1).max(256).optional(),
  })
  .refine((r) => (r.key === undefined) !== (r.prefix === undefined), 'give exactly one of key and prefix');

export type MintRequest = z.infer<typeof mintRequestSchema>;

/** What the link covers, in canonical form. */
export interface LinkScope {
  readonly store: string;
  readonly key?: CanonicalKey;
  readonly prefix?: CanonicalKey;
  /** The key the `share` decision is asked about: the key itself, or "<prefix>/*". */
  readonly decisionKey: CanonicalKey;
}

export function parseMintRequest(body: unknown, maxExpiresInSeconds: number): MintRequest {
  const parsed = mintRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(issue === undefined ? 'invalid share request' : `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  if (parsed.data.expiresIn > maxExpiresInSeconds) throw badRequest(`expiresIn: at most ${maxExpiresInSeconds} seconds`);
  return parsed.data;
}

/**
 * A decoded key from JSON, held to the same rules as a key from a path: each segment goes
 * through the one canonicalizer, so a link can only name a key a download could name.
 */
export function keyFromText(text: string): CanonicalKey {
  return canonicalizeKey(text.split('/').map(encodeURIComponent).join('/'));
}

export function linkScope(request: MintRequest): LinkScope {
  if (request.key !== undefined) {
    const key = keyFromText(request.key);
    return { store: request.store, key, decisionKey: key };
  }
  const prefix = keyFromText((request.prefix as string).replace(/\/$/, ''));
  // "*" as the last segment: only a rule whose pattern covers any key under the prefix matches.
  return { store: request.store, prefix, decisionKey: keyFromText(`${prefix.value}/*`) };
}

export interface MintDeps {
  readonly ring: LinkKeyRing;
  readonly state: SharingState;
  readonly now?: () => number;
}

export async function mintLink(deps: MintDeps, request: MintRequest, scope: LinkScope, creator: Subject): Promise<{ token: string; claims: LinkClaims }> {
  // Without shared state a count would be per instance: refuse rather than hand out a
  // "one-time" link that works once per instance.
  if (request.maxDownloads !== undefined && !deps.state.shared) throw countingUnavailable();
  const expiresAt = Math.floor((deps.now ?? Date.now)() / 1000) + request.expiresIn;
  const signed = await deps.ring.sign({
    store: scope.store,
    ...(scope.key === undefined ? {} : { key: scope.key.value }),
    ...(scope.prefix === undefined ? {} : { prefix: scope.prefix.value }),
    expiresAt,
    ...(request.maxDownloads === undefined ? {} : { maxDownloads: request.maxDownloads }),
    ...(request.boundTo === undefined ? {} : { boundTo: request.boundTo }),
    ...(creator.id === null ? {} : { createdBy: creator.id }),
  });
  // The creator's claims stay in the state (never in the link): every use is re-checked as them.
  await deps.state.recordLink(signed.claims.id, { createdBy: creator.id, expiresAt, claims: creator.claims });
  return signed;
}
