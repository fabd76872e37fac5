// The demo host app (Koa): logs users in, issues their Sluice token as an HttpOnly cookie (the
// integration pattern to copy), renders pages whose links, thumbnails, video and uploads all go to
// Sluice, mints and revokes share links through Sluice's API and keeps the list of them. It never
// reads, writes or serves file bytes.
// Routes: "/", "/favicon.ico" and "/app/…", so one nginx can route the rest (downloads, images,
// uploads) to Sluice.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import { imgproxyUrl } from '../clients/js/sluice-client.js';
import { auditRow, type AuditRow, type AuditSource } from './audit-feed.js';
import { CLIP, ownFiles, POSTER, STAFF_GALLERY, USERS, VAULT_FILES, type DemoUser } from './catalog.js';
import { DEMO_COOKIE, DEMO_RATE_LIMIT, DEMO_STORE, VAULT_STORE, type DemoSecrets } from './config.js';
import { isImage, Library, nameOf, typeOf, type FileRecord, type LinkRecord } from './library.js';
import { errorPage, libraryPage, loginPage, revokedNotice, sharedNotice, sharedPage, type FileView, type StoreView } from './pages.js';

export interface DemoOptions {
  /** The token secret (shared with Sluice) and the imgproxy key/salt; the other secrets stay with Sluice. */
  readonly secrets: Pick<DemoSecrets, 'jwtSecret' | 'imgproxyKey' | 'imgproxySalt'>;
  /** Where browsers reach Sluice ("" = the same origin, nginx routing both). */
  readonly sluiceUrl: string;
  /** Where this app reaches Sluice's API (server to server). */
  readonly sluiceApi: string;
  readonly host?: string;
  readonly port?: number;
  /** The Sluice store holding the files (default "demo"). */
  readonly store?: string;
  /** imgproxy source prefix of a key (default "local:///", the fs store named by transform.localStore). */
  readonly imageSource?: string;
  /** The encrypted store's name, when Sluice has one (default: none). */
  readonly vaultStore?: string;
  /** An S3 store that takes presigned uploads, when Sluice has one. */
  readonly s3Store?: string;
  /** Sluice has Redis: share links may count downloads. */
  readonly countedLinks?: boolean;
  /** Sluice's audit lines, for the "under the hood" panel. */
  readonly audit?: AuditSource;
}

export interface RunningDemo {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const TOKEN_SECONDS = 3600;
const THUMB = { width: 240, height: 160 };
const ABOUT: Readonly<Record<string, string>> = { alice: 'her own folder and the staff gallery', bob: 'his own folder only' };
const encodeKey = (key: string): string => key.split('/').map(encodeURIComponent).join('/');
const ASSETS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');
const STATIC: Readonly<Record<string, { type: string; body: Buffer }>> = Object.fromEntries(
  [
    ['style.css', 'text/css; charset=utf-8'],
    ['app.js', 'text/javascript; charset=utf-8'],
    ['favicon.svg', 'image/svg+xml'],
  ].map(([name, type]) => [name, { type: type as string, body: readFileSync(path.join(ASSETS, name as string)) }]),
);

interface Session {
  readonly user: DemoUser;
  readonly token: string;
}

export function createDemoApp(options: DemoOptions): Koa {
  const secret = new TextEncoder().encode(options.secrets.jwtSecret);
  const store = options.store ?? DEMO_STORE;
  const vault = options.vaultStore;
  const library = new Library();
  const sized = new Set<string>();
  const files = (s: string, key: string): string => `${options.sluiceUrl}/files/${s}/${encodeKey(key)}`;
  const stores: StoreView[] = [
    { name: store, label: 'My files (disk)', how: 'nginx writes the body to disk after Sluice said yes; the app only links it into place', upload: 'fs' },
    ...(vault === undefined
      ? []
      : [
          {
            name: vault,
            label: 'Encrypted vault',
            how: 'nginx streams the body to the worker, which encrypts it before it touches the disk',
            upload: 'encrypted' as const,
          },
        ]),
    ...(options.s3Store === undefined
      ? []
      : [
          {
            name: options.s3Store,
            label: 'Cloud (S3)',
            how: 'your browser uploads straight to the bucket with URLs Sluice presigned (multipart for large files)',
            upload: 's3' as const,
          },
        ]),
  ];
  const storeKind = (name: string): StoreView['upload'] | undefined => stores.find((s) => s.name === name)?.upload;

  for (const user of USERS) {
    for (const key of ownFiles(user.name)) library.add(user.name, store, key);
    if (vault !== undefined) for (const name of VAULT_FILES) library.add(user.name, vault, `users/${user.name}/${name}`);
  }

  async function currentUser(ctx: Context): Promise<Session | null> {
    const token = ctx.cookies.get(DEMO_COOKIE);
    if (token === undefined) return null;
    try {
      const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
      const user = USERS.find((u) => u.name === payload.sub);
      return user === undefined ? null : { user, token };
    } catch {
      return null;
    }
  }

  /** Server to server, as the user (their token as a bearer): the host app asking Sluice. */
  function gateway(method: string, target: string, token: string | undefined, body?: unknown): Promise<Response> {
    return fetch(`${options.sluiceApi}${target}`, {
      method,
      headers: { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  /** Sizes of the catalogue's files, from Sluice's Content-Length (once per user and process). */
  async function fillSizes(session: Session): Promise<void> {
    const missing = library.files(session.user.name).filter((f) => f.size === null);
    if (missing.length === 0 || sized.has(session.user.name)) return;
    sized.add(session.user.name);
    await Promise.all(
      missing.map(async (f) => {
        const res = await gateway('HEAD', `/files/${f.store}/${encodeKey(f.key)}`, session.token);
        const length = res.headers.get('content-length');
        if (res.ok && length !== null) f.size = Number(length);
      }),
    );
  }

  function view(f: FileRecord, signedThumbs: boolean): FileView {
    const url = files(f.store, f.key);
    let thumb: FileView['thumb'];
    if (isImage(f.type)) {
      if (signedThumbs && f.store === store) {
        // Signed by this app (imgproxy style): it decided, the signature says so.
        const signed = (w: number, h: number): string =>
          imgproxyUrl({
            base: `${options.sluiceUrl}/img`,
            key: options.secrets.imgproxyKey,
            salt: options.secrets.imgproxySalt,
            options: [`rs:fill:${w}:${h}`],
            source: `${options.imageSource ?? 'local:///'}${f.key}`,
          });
        thumb = { via: 'signed', src: signed(THUMB.width, THUMB.height), src2x: signed(THUMB.width * 2, THUMB.height * 2) };
      } else {
        // Sluice's native form, authorized by its rules (the worker decrypts vault sources).
        // No format named: Sluice picks AVIF or WebP from the browser's Accept header.
        const native = (w: number, h: number): string => `${options.sluiceUrl}/images/${f.store}/${encodeKey(f.key)}?rs=fill:${w}:${h}`;
        thumb = { via: 'rules', src: native(THUMB.width, THUMB.height), src2x: native(THUMB.width * 2, THUMB.height * 2) };
      }
    }
    const folder = f.key.slice(0, f.key.lastIndexOf('/'));
    const poster = f.type.startsWith('video/') && f.name === CLIP ? files(store, `${folder}/${POSTER}`) : undefined;
    return { ...f, viewUrl: url, downloadUrl: `${url}?download=1`, ...(thumb === undefined ? {} : { thumb }), ...(poster === undefined ? {} : { poster }) };
  }

  function originOf(ctx: Context): string {
    return `${ctx.protocol}://${ctx.host}`;
  }

  const landingPath = (s: string, key: string, token: string): string => `/app/s/${s}/${encodeKey(key)}?share=${encodeURIComponent(token)}`;

  async function libraryHtml(ctx: Context, session: Session, notice?: string): Promise<string> {
    await fillSizes(session);
    const name = session.user.name;
    const mine = library.files(name);
    // Staff gallery: this app decided, and says so with an imgproxy signature.
    const gallery = session.user.groups.includes('staff')
      ? STAFF_GALLERY.map((key) => view({ store, key, name: nameOf(key), size: null, type: typeOf(key) }, true))
      : [];
    const other = USERS.find((u) => u.name !== name)?.name ?? 'nobody';
    return libraryPage({
      user: name,
      stores,
      files: mine.filter((f) => f.store !== vault).map((f) => view(f, true)),
      vault: mine.filter((f) => f.store === vault).map((f) => view(f, false)),
      gallery,
      links: library.activeLinks(name).map((l) => ({ ...l, absoluteUrl: `${originOf(ctx)}${l.landingPath}` })),
      countedLinks: options.countedLinks === true,
      tryForbidden: `/app/open/${store}/${encodeKey(`users/${other}/notes.txt`)}`,
      rateLimit: DEMO_RATE_LIMIT,
      ...(notice === undefined ? {} : { notice }),
    });
  }

  function html(ctx: Context, body: string, status = 200): void {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  }

  const router = new Router();
  router.get('/', async (ctx) => {
    if ((await currentUser(ctx)) !== null) return ctx.redirect('/app/library');
    html(ctx, loginPage(USERS.map((u) => ({ name: u.name, password: u.password, about: ABOUT[u.name] ?? '' }))));
  });
  router.get('/favicon.ico', (ctx) => serveStatic(ctx, 'favicon.svg'));
  router.get('/app/static/:name', (ctx) => serveStatic(ctx, ctx.params.name as string));
  router.post('/app/login', async (ctx) => {
    const form = await readForm(ctx);
    const user = USERS.find((u) => u.name === form.get('user') && u.password === form.get('password'));
    if (user === undefined) {
      html(
        ctx,
        loginPage(
          USERS.map((u) => ({ name: u.name, password: u.password, about: ABOUT[u.name] ?? '' })),
          'Unknown user or wrong password.',
        ),
        401,
      );
      return;
    }
    const token = await new SignJWT({ groups: [...user.groups] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.name)
      .setIssuedAt()
      .setExpirationTime(`${TOKEN_SECONDS}s`)
      .sign(secret);
    // HttpOnly: page scripts never see the token. SameSite=Lax: sent with the page's own
    // images, video, links and uploads (same site), not with cross-site POSTs.
    ctx.cookies.set(DEMO_COOKIE, token, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: TOKEN_SECONDS * 1000, overwrite: true });
    ctx.status = 303;
    ctx.redirect('/app/library');
  });
  router.post('/app/logout', (ctx) => {
    ctx.cookies.set(DEMO_COOKIE, null, { path: '/' });
    ctx.status = 303;
    ctx.redirect('/');
  });
  router.get('/app/library', async (ctx) => {
    const session = await currentUser(ctx);
    if (session === null) return ctx.redirect('/');
    let notice: string | undefined;
    const shared = typeof ctx.query.shared === 'string' ? library.link(session.user.name, ctx.query.shared) : undefined;
    if (shared !== undefined) notice = sharedNotice(shared, `${originOf(ctx)}${shared.landingPath}`);
    if (typeof ctx.query.revoked === 'string') notice = revokedNotice(ctx.query.revoked);
    html(ctx, await libraryHtml(ctx, session, notice));
  });
  // Post/redirect/get: a reload of a result page never re-posts.
  router.get(['/app/share', '/app/share/revoke', '/app/login', '/app/logout'], (ctx) => ctx.redirect('/app/library'));
  router.post('/app/share', async (ctx) => {
    const session = await currentUser(ctx);
    if (session === null) return ctx.redirect('/');
    const form = await readForm(ctx);
    const key = form.get('key') ?? '';
    const target = form.get('store') ?? store;
    // The host app offers sharing only for the user's own files; Sluice checks again (action `share`).
    const file = library.find(session.user.name, target, key);
    if (file === undefined) return html(ctx, errorPage(403), 403);
    const expiresIn = Math.min(Math.max(Number(form.get('expires') ?? 3600) || 3600, 60), 7 * 24 * 3600);
    const uses = Number(form.get('uses') ?? '');
    const maxDownloads = options.countedLinks === true && Number.isInteger(uses) && uses > 0 ? uses : undefined;
    const res = await gateway('POST', '/files/_share', session.token, {
      store: target,
      key,
      expiresIn,
      ...(maxDownloads === undefined ? {} : { maxDownloads }),
    });
    if (res.status !== 201) return gatewayError(ctx, res, true);
    const link = (await res.json()) as { id: string; token: string; url?: string; expiresAt: string };
    const record: LinkRecord = {
      id: link.id,
      store: target,
      key,
      name: file.name,
      gatewayPath: link.url ?? '',
      landingPath: landingPath(target, key, link.token),
      expiresAt: link.expiresAt,
      maxDownloads: maxDownloads ?? null,
      createdAt: new Date().toISOString(),
    };
    library.addLink(session.user.name, record);
    ctx.status = 303;
    ctx.redirect(`/app/library?shared=${encodeURIComponent(link.id)}#links`);
  });
  router.post('/app/share/revoke', async (ctx) => {
    const session = await currentUser(ctx);
    if (session === null) return ctx.redirect('/');
    const id = (await readForm(ctx)).get('id') ?? '';
    const link = library.link(session.user.name, id);
    if (link === undefined) return html(ctx, errorPage(404), 404);
    const res = await gateway('DELETE', `/files/_share/links/${encodeURIComponent(id)}`, session.token);
    if (res.status !== 204) return gatewayError(ctx, res, true);
    library.removeLink(session.user.name, id);
    ctx.status = 303;
    ctx.redirect(`/app/library?revoked=${encodeURIComponent(link.name)}#links`);
  });
  // After an upload the page tells the host app; it believes Sluice (a HEAD as the user), not the page.
  router.post('/app/files', async (ctx) => {
    const session = await currentUser(ctx);
    if (session === null) return ctx.throw(401);
    const body = new URLSearchParams(await readBody(ctx));
    const target = body.get('store') ?? '';
    const key = body.get('key') ?? '';
    if (storeKind(target) === undefined || !key.startsWith(`users/${session.user.name}/`)) ctx.throw(403);
    const res = await gateway('HEAD', `/files/${target}/${encodeKey(key)}`, session.token);
    if (!res.ok) ctx.throw(res.status === 404 ? 404 : 502);
    const record = library.add(session.user.name, target, key, Number(res.headers.get('content-length') ?? 0));
    ctx.body = { store: record.store, key: record.key, size: record.size };
  });
  router.get('/app/api/decisions', async (ctx) => {
    const session = await currentUser(ctx);
    if (session === null) return ctx.throw(401);
    ctx.set('Cache-Control', 'no-store');
    const only = typeof ctx.query.store === 'string' && typeof ctx.query.key === 'string' ? { store: ctx.query.store, key: ctx.query.key } : undefined;
    ctx.body = { rows: decisionsFor(session.user.name, options.audit, storeKind, only) };
  });
  // The demo's own door to a file: asks Sluice first (HEAD as the user) and shows a page in words
  // when the answer is no; yes → straight to Sluice's URL.
  router.get('/app/open/{*rest}', async (ctx) => {
    const target = ctx.path.slice('/app/open/'.length);
    const session = await currentUser(ctx);
    const res = await gateway('HEAD', `/files/${target}`, session?.token);
    if (res.ok) return ctx.redirect(`${options.sluiceUrl}/files/${target}`);
    return gatewayError(ctx, res, session !== null);
  });
  // The shared page for an anonymous visitor: the demo checks the link with a HEAD (which never
  // takes a use) and shows the file, or says in words why the link does not work.
  router.get('/app/s/{*rest}', async (ctx) => {
    const target = ctx.path.slice('/app/s/'.length);
    const token = typeof ctx.query.share === 'string' ? ctx.query.share : '';
    const gatewayPath = `/files/${target}?share=${encodeURIComponent(token)}`;
    const res = await gateway('HEAD', gatewayPath, undefined);
    if (!res.ok) return gatewayError(ctx, res, false);
    const name = decodeURIComponent(target.split('/').pop() ?? '');
    let claims: { jti?: string; maxDownloads?: number } = {};
    try {
      claims = decodeJwt(token) as typeof claims; // display only: Sluice verified it above
    } catch {
      // an opaque token: show less
    }
    const linkId = String(claims.jti ?? '');
    const from = USERS.find((u) => library.link(u.name, linkId) !== undefined)?.name;
    const record = from === undefined ? undefined : library.link(from, linkId);
    const counted = claims.maxDownloads !== undefined || (record?.maxDownloads ?? null) !== null;
    const expiresAt = record?.expiresAt;
    html(
      ctx,
      sharedPage({
        name,
        size: res.headers.get('content-length') === null ? null : Number(res.headers.get('content-length')),
        type: (res.headers.get('content-type') ?? typeOf(name)).split(';')[0] as string,
        ...(from === undefined ? {} : { from }),
        ...(expiresAt === undefined ? {} : { expiresAt }),
        viewUrl: `${options.sluiceUrl}${gatewayPath}`,
        downloadUrl: `${options.sluiceUrl}/files/${target}?share=${encodeURIComponent(token)}&download=1`,
        counted,
      }),
    );
  });
  // What a 429 looks like to a person (the page's "try it" button links here after Sluice's 429s).
  router.get('/app/slow-down', async (ctx) => {
    const retry = typeof ctx.query.retry === 'string' && /^\d{1,4}$/.test(ctx.query.retry) ? ctx.query.retry : undefined;
    html(ctx, errorPage(429, { loggedIn: (await currentUser(ctx)) !== null, ...(retry === undefined ? {} : { retryAfter: retry }) }), 429);
  });

  async function gatewayError(ctx: Context, res: Response, loggedIn: boolean): Promise<void> {
    let detail: string | undefined;
    try {
      detail = ((await res.json()) as { error?: string }).error;
    } catch {
      // HEAD: no body
    }
    const retry = res.headers.get('retry-after');
    html(ctx, errorPage(res.status, { loggedIn, ...(detail === undefined ? {} : { detail }), ...(retry === null ? {} : { retryAfter: retry }) }), res.status);
  }

  const app = new Koa();
  app.proxy = true;
  // Errors as pages people can read (JSON for the page's own API calls); never a stack trace.
  app.use(async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) ctx.throw(404);
      if (ctx.status === 405 && ctx.path.startsWith('/app/')) ctx.throw(405);
    } catch (error) {
      const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
      if (ctx.path.startsWith('/app/api/') || ctx.path === '/app/files') {
        ctx.status = status;
        ctx.body = { error: status >= 500 ? 'internal error' : (error as Error).message || 'error' };
        return;
      }
      html(ctx, errorPage(status, { loggedIn: ctx.cookies.get(DEMO_COOKIE) !== undefined }), status);
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

function serveStatic(ctx: Context, name: string): void {
  const asset = STATIC[name];
  if (asset === undefined) ctx.throw(404);
  ctx.type = asset.type;
  ctx.set('Cache-Control', 'no-cache');
  ctx.body = asset.body;
}

/** Who moved the bytes of an allowed request, by action and store kind. */
function movedBy(row: AuditRow, kind: StoreView['upload'] | undefined): string {
  if (row.decision !== 'allow') return 'nobody: refused before any byte';
  if (row.action === 'share') return 'no bytes: a link was minted';
  if (row.action === 'transform') return kind === 'encrypted' ? 'worker (decrypts, renders) → nginx (caches)' : 'worker (renders) → nginx (caches)';
  if (row.action === 'write')
    return kind === 's3'
      ? 'your browser → S3, directly (presigned)'
      : kind === 'encrypted'
        ? 'nginx → worker (encrypts) → disk'
        : 'nginx (writes the body) → disk';
  if (kind === 'encrypted') return 'worker (decrypts) → nginx';
  if (kind === 's3') return 'nginx ← S3 (presigned)';
  return 'nginx (X-Accel-Redirect)';
}

function decisionsFor(
  user: string,
  audit: AuditSource | undefined,
  kind: (store: string) => StoreView['upload'] | undefined,
  only?: { store: string; key: string },
): unknown[] {
  if (audit === undefined) return [];
  const rows: unknown[] = [];
  const lines = [...audit()];
  for (let i = lines.length - 1; i >= 0 && rows.length < 40; i--) {
    const row = auditRow(lines[i] as Record<string, unknown>);
    if (row === null) continue;
    // Decisions about this user's folder (whoever asked: share-link visitors, other users) and
    // every decision this user caused.
    if (row.subject !== user && !row.key.startsWith(`users/${user}/`)) continue;
    if (only !== undefined && (row.store !== only.store || row.key !== only.key)) continue;
    const who =
      row.subject ?? (row.rule === 'imgproxy-signature' ? 'holder of a signed URL' : row.rule === 'share-link' ? 'visitor with a share link' : 'anonymous');
    rows.push({
      ...row,
      reason: row.decision === 'allow' ? null : row.reason,
      who,
      decidedBy: row.source === 'rule' ? (row.rule === null ? 'no rule matched' : `rule “${row.rule}”`) : `${row.source}${row.cacheHit ? ' (cache hit)' : ''}`,
      movedBy: movedBy(row, kind(row.store)),
    });
  }
  return rows;
}

/** A small urlencoded form body (no body-parser dependency for a few fields). */
async function readForm(ctx: Context): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(ctx));
}

async function readBody(ctx: Context): Promise<string> {
  let body = '';
  for await (const chunk of ctx.req) {
    body += String(chunk);
    if (body.length > 8192) ctx.throw(413, 'form too large');
  }
  return body;
}

export async function startDemoApp(options: DemoOptions): Promise<RunningDemo> {
  const app = createDemoApp(options);
  const host = options.host ?? '127.0.0.1';
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 0, host, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export { VAULT_STORE };
