// The Sluice side of the demo: an fs store, an encrypted fs store (the "vault"), optionally an S3
// store, the token cookie, rules for the two users, image transforms (native + imgproxy-signed),
// uploads, share links and a rate limit. Used by `sluice dev --demo` and the tests.

export interface DemoSecrets {
  /** HS256 secret shared by the demo app (signs tokens) and Sluice (verifies them). */
  readonly jwtSecret: string;
  readonly shareSecret: string;
  /** imgproxy key and salt, hex. */
  readonly imgproxyKey: string;
  readonly imgproxySalt: string;
  readonly workerSecret: string;
}

export const DEMO_STORE = 'demo';
/** The encrypted store: the worker decrypts on the way out (and encrypts uploads on the way in). */
export const VAULT_STORE = 'vault';
export const DEMO_COOKIE = 'sluice_session';

/** Per-subject rate limit of the demo: generous for browsing, reachable with the "try it" button. */
export const DEMO_RATE_LIMIT = { requestsPerSecond: 5, burst: 40 } as const;

export interface DemoS3Store {
  /** Store name in Sluice (e.g. "cloud"). */
  readonly name: string;
  readonly bucket: string;
  readonly endpoint: string;
  readonly region?: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface DemoConfigOptions {
  /** Root of the plain fs store. */
  readonly root: string;
  readonly secrets: DemoSecrets;
  /** Root of the encrypted fs store and how the worker unlocks its keyring; absent = no vault. */
  readonly vault?: { readonly root: string; readonly encryption: Record<string, unknown> };
  /** An S3 store that takes presigned uploads (single PUT and multipart). */
  readonly s3?: DemoS3Store;
  /** Redis: counted share links (`maxDownloads`) need it. */
  readonly redisUrl?: string;
  /** Presigned uploads above this size are multipart (S3's minimum part is 5 MiB). */
  readonly multipartThresholdBytes?: number;
}

const MIB = 1024 * 1024;

export function demoSluiceConfig(options: DemoConfigOptions): Record<string, unknown> {
  const { secrets } = options;
  const stores: Record<string, unknown> = { [DEMO_STORE]: { type: 'fs', root: options.root } };
  if (options.vault !== undefined) stores[VAULT_STORE] = { type: 'fs', root: options.vault.root, encrypted: true };
  if (options.s3 !== undefined) {
    const s3 = options.s3;
    stores[s3.name] = {
      type: 's3',
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      region: s3.region ?? 'us-east-1',
      forcePathStyle: true,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    };
  }
  const threshold = options.multipartThresholdBytes ?? 8 * MIB;
  return {
    stores,
    auth: { keys: [{ algorithms: ['HS256'], secret: secrets.jwtSecret }], cookieName: DEMO_COOKIE },
    rules: [
      // Everyone: their own folder in every store — read, thumbnails, share links and uploads.
      { id: 'own-folder', key: 'users/:owner/*rest', actions: ['read', 'head', 'transform', 'share', 'write'], when: [{ claim: 'sub', equalsParam: 'owner' }] },
      // Staff: the staff gallery.
      { id: 'staff-gallery', store: DEMO_STORE, key: 'staff/*rest', actions: ['read', 'head', 'transform'], when: [{ claim: 'groups', contains: 'staff' }] },
    ],
    transform: { enabled: true, keys: [secrets.imgproxyKey], salts: [secrets.imgproxySalt], localStore: DEMO_STORE },
    worker: { secret: secrets.workerSecret },
    sharing: { keys: [{ kid: 'demo-1', secret: secrets.shareSecret }], maxExpiresInSeconds: 7 * 24 * 3600, rateLimit: { ...DEMO_RATE_LIMIT } },
    uploads: { enabled: true, maxBytes: 512 * MIB, multipartThresholdBytes: threshold, partSizeBytes: Math.max(5 * MIB, Math.min(threshold, 16 * MIB)) },
    ...(options.vault === undefined ? {} : { encryption: options.vault.encryption }),
    ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
  };
}

/**
 * nginx locations that route the host app's own pages ("/", "/app/", the favicon) next to
 * Sluice's include, so pages, downloads and thumbnails share one origin (and the token cookie).
 * `s3Passthrough`: a bucket path proxied as is to the S3 endpoint (Host kept as signed), so the
 * browser's presigned PUTs are same-origin — the stand-in for a bucket CORS policy.
 */
export function demoNginxLocations(demoAddress: string, options: { s3Passthrough?: { bucket: string; endpoint: string } } = {}): string {
  const proxy = `proxy_pass http://${demoAddress}; proxy_set_header Host $http_host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`;
  const lines = [`location = / { ${proxy} }`, `location ^~ /app/ { ${proxy} }`, `location = /favicon.ico { ${proxy} }`];
  const s3 = options.s3Passthrough;
  if (s3 !== undefined) {
    const upstream = new URL(s3.endpoint);
    lines.push(
      `location ^~ /${s3.bucket}/ { proxy_pass ${upstream.origin}; proxy_set_header Host ${upstream.host}; proxy_request_buffering off; client_max_body_size 0; proxy_http_version 1.1; }`,
    );
  }
  return lines.join('\n');
}
