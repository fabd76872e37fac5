// The Sluice side of the demo: one fs store, the token cookie, rules for the two users, image
// transforms (native + imgproxy-signed) and share links. Used by `sluice dev --demo` and the tests.

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
export const DEMO_COOKIE = 'sluice_session';

export function demoSluiceConfig(root: string, secrets: DemoSecrets): Record<string, unknown> {
  return {
    stores: { [DEMO_STORE]: { type: 'fs', root } },
    auth: { keys: [{ algorithms: ['HS256'], secret: secrets.jwtSecret }], cookieName: DEMO_COOKIE },
    rules: [
      // Everyone: their own folder, including thumbnails and share links.
      { id: 'own-folder', key: 'users/:owner/*rest', actions: ['read', 'head', 'transform', 'share'], when: [{ claim: 'sub', equalsParam: 'owner' }] },
      // Staff: the staff gallery.
      { id: 'staff-gallery', key: 'staff/*rest', actions: ['read', 'head', 'transform'], when: [{ claim: 'groups', contains: 'staff' }] },
    ],
    transform: { enabled: true, keys: [secrets.imgproxyKey], salts: [secrets.imgproxySalt], localStore: DEMO_STORE },
    worker: { secret: secrets.workerSecret },
    sharing: { keys: [{ kid: 'demo-1', secret: secrets.shareSecret }], maxExpiresInSeconds: 24 * 3600 },
  };
}

/**
 * nginx locations that route the host app's own pages ("/" and "/app/") next to Sluice's
 * include, so pages, downloads and thumbnails share one origin (and the token cookie).
 */
export function demoNginxLocations(demoAddress: string): string {
  const proxy = `proxy_pass http://${demoAddress}; proxy_set_header Host $http_host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`;
  return [`location = / { ${proxy} }`, `location ^~ /app/ { ${proxy} }`].join('\n');
}
