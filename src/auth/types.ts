/** Who is asking. Anonymous callers are subjects too, so "public" rules can allow them. */
export interface Subject {
  readonly authenticated: boolean;
  /** The token's `sub`, or null when anonymous. */
  readonly id: string | null;
  /** Verified JWT claims (empty when anonymous). */
  readonly claims: Readonly<Record<string, unknown>>;
}

export const ANONYMOUS: Subject = Object.freeze({ authenticated: false, id: null, claims: Object.freeze({}) });

/** The parts of a request authentication looks at. */
export interface Credentials {
  readonly authorization?: string | undefined;
  readonly cookie?: string | undefined;
}

export interface Authenticator {
  /** Resolves to the subject; throws PublicError(401) for a present but unacceptable token. */
  authenticate(credentials: Credentials): Promise<Subject>;
}
