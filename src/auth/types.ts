/** Who is asking. Anonymous callers are subjects too, so "public" rules can allow them. */
export interface Subject {
  readonly authenticated: boolean;
  /** The token's `sub`, or null when anonymous. */
  readonly id: string | null;
  /** Verified JWT claims (empty when anonymous). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** How access was proven; absent means a bearer token (or nothing, when anonymous). */
  readonly via?: 'token' | 'share-link';
  /** What a share link grants (only when via is 'share-link'). */
  readonly share?: ShareGrant;
}

/** The scope of a share link: read/head of one key, or of every key under a prefix. */
export interface ShareGrant {
  readonly linkId: string;
  readonly store: string;
  /** Exactly one of key and prefix is set; prefix has no trailing "/". */
  readonly key?: string;
  readonly prefix?: string;
  /** Number of GET downloads allowed (absent = unlimited until expiry). */
  readonly maxDownloads?: number;
  /** Expiry, seconds since the epoch. */
  readonly expiresAt: number;
  /** Who minted the link through the share API, as they were then (sub and verified claims): at
   * every use the policy is asked again as this subject, so a link never grants more than its
   * creator may do now. null for a link signed offline with a sharing key (`sluice sign share`,
   * the client API): its signer holds the key and could sign any scope, so its scope is all it has. */
  readonly creator: Subject | null;
}

export const ANONYMOUS: Subject = Object.freeze({ authenticated: false, id: null, claims: Object.freeze({}) });

/** The parts of a request authentication looks at. */
export interface Credentials {
  readonly authorization?: string | undefined;
  readonly cookie?: string | undefined;
  /** A share link token (the `share` query parameter). */
  readonly shareToken?: string | undefined;
}

export interface Authenticator {
  /** Resolves to the subject; throws PublicError(401) for a present but unacceptable token. */
  authenticate(credentials: Credentials): Promise<Subject>;
}
