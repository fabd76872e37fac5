// The demo host app (Koa): logs users in, issues their Sluice token as an HttpOnly cookie (the
// integration pattern to copy), renders pages whose links, thumbnails and video all point at
// Sluice, and mints share links through Sluice's API. It never reads or serves file bytes.
// Routes: "/" and "/app/…", so one nginx can route the rest (downloads, images) to Sluice.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { jwtVerify, SignJWT } from 'jose';
import { createShareLink, imgproxyUrl, revokeShareLink } from '../clients/js/sluice-client.js';
import { CLIP, ownFiles, PHOTOS, STAFF_GALLERY, USERS, type DemoUser } from './catalog.js';
import { DEMO_COOKIE, DEMO_STORE, type DemoSecrets } from './config.js';
import { filesPage, loginPage, revokedNotice, sharedNotice, type FileEntry, type Thumbnail } from './pages.js';

export interface DemoOptions {
  /** The token secret (shared with Sluice) and the imgproxy key/salt; the other secrets stay with Sluice. */
  readonly secrets: Pick<DemoSecrets, 'jwtSecret' | 'imgproxyKey' | 'imgproxySalt'>;
  /** Where browsers reach Sluice ("" = the same origin, nginx routing both). */
  readonly sluiceUrl: string;
  /** Where this app reaches Sluice's share API (server to server). */
  readonly sluiceApi: string;
  readonly host?: string;
  readonly port?: number;
  /** Share links' lifetime in seconds. */
  readonly shareSeconds?: number;
  /** The Sluice store holding the files (default "demo"). */
  readonly store?: string;
  /** imgproxy source prefix of a key (default "local:///", the fs store named by transform.localStore). */
  readonly imageSource?: string;
}

export interface RunningDemo {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const TOKEN_SECONDS = 3600;
const THUMB = { width: 240, height: 160 };
const encodeKey = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

export function createDemoApp(options: DemoOptions): Koa {
  const secret = new TextEncoder().encode(options.secrets.jwtSecret);
  const store = options.store ?? DEMO_STORE;
  const files = (key: string): string => `${options.sluiceUrl}/files/${store}/${encodeKey(key)}`;

  async function currentUser(ctx: Context): Promise<{ user: DemoUser; token: string } | null> {
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

  function page(user: DemoUser, notice?: string): string {
    const entries: FileEntry[] = ownFiles(user.name).map((key) => ({ key, name: key.split('/').pop() as string, viewUrl: files(key), downloadUrl: `${files(key)}?download=1` }));
    // Own photos: Sluice's native form, authorized by its rules. No format named: Sluice picks
    // AVIF or WebP from the browser's Accept header.
    const thumbnails: Thumbnail[] = PHOTOS.map((p) => ({ name: p, via: 'native', src: `${options.sluiceUrl}/images/${store}/${encodeKey(`users/${user.name}/${p}`)}?rs=fill:${THUMB.width}:${THUMB.height}` }));
    // Staff gallery: this app decided, and says so with an imgproxy signature.
    if (user.groups.includes('staff')) {
      for (const key of STAFF_GALLERY) {
        const src = imgproxyUrl({ base: `${options.sluiceUrl}/img`, key: options.secrets.imgproxyKey, salt: options.secrets.imgproxySalt, options: [`rs:fill:${THUMB.width}:${THUMB.height}`], source: `${options.imageSource ?? 'local:///'}${key}` });
        thumbnails.push({ name: key.split('/').pop() as string, via: 'signed', src });
      }
    }
    return filesPage({ user: user.name, files: entries, thumbnails, videoUrl: files(`users/${user.name}/${CLIP}`), ...(notice === undefined ? {} : { notice }) });
  }

  const router = new Router();
  router.get('/', async (ctx) => {
    if ((await currentUser(ctx)) !== null) return ctx.redirect('/app/library');
    ctx.type = 'html';
    ctx.body = loginPage(USERS.map((u) => u.name));
  });
  router.post('/app/login', async (ctx) => {
    const form = await readForm(ctx);
    const user = USERS.find((u) => u.name === form.get('user') && u.password === form.get('password'));
    if (user === undefined) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(USERS.map((u) => u.name), 'Unknown user or wrong password.');
      return;
    }
    const token = await new SignJWT({ groups: [...user.groups] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.name)
      .setIssuedAt()
      .setExpirationTime(`${TOKEN_SECONDS}s`)
      .sign(secret);
    // HttpOnly: page scripts never see the token. SameSite=Lax: sent with the page's own
    // images, video and links (same site), not with cross-site POSTs.
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
    ctx.type = 'html';
    ctx.body = page(session.user);
  });
  router.post('/app/share', async (ctx) => {
    const session = await currentUser(ctx);
    if (session === null) return ctx.redirect('/');
    const key = (await readForm(ctx)).get('key') ?? '';
    // The host app offers sharing only for the user's own files; Sluice checks again (action `share`).
    if (!ownFiles(session.user.name).includes(key)) ctx.throw(403, 'not your file');
    const link = await createShareLink(options.sluiceApi, session.token, { store, key, expiresIn: options.shareSeconds ?? 3600 });
    ctx.type = 'html';
    ctx.body = page(session.user, sharedNotice({ id: link.id, url: `${options.sluiceUrl}${link.url ?? ''}`, expiresAt: link.expiresAt }));
  });
  router.post('/app/share/revoke', async (ctx) => {
    const session = await currentUser(ctx);
    if (session === null) return ctx.redirect('/');
    const id = (await readForm(ctx)).get('id') ?? '';
    if (!(await revokeShareLink(options.sluiceApi, session.token, id))) ctx.throw(404, 'unknown link');
    ctx.type = 'html';
    ctx.body = page(session.user, revokedNotice());
  });

  const app = new Koa();
  app.proxy = true;
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/** A small urlencoded form body (no body-parser dependency for two fields). */
async function readForm(ctx: Context): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of ctx.req) {
    body += String(chunk);
    if (body.length > 8192) ctx.throw(413, 'form too large');
  }
  return new URLSearchParams(body);
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
