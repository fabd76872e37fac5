// Uploads API (JSON), next to the downloads (store names cannot start with "_"):
//   POST   <prefix>/_uploads                 plan an upload (policy action `write` on the key)
//   POST   <prefix>/_uploads/<id>/complete   complete a multipart upload {parts: [{partNumber, etag}]}
//   DELETE <prefix>/_uploads/<id>            abort a multipart upload
//   PUT    <prefix>/_uploads/fs/<store>/<key…>  fs stores: body offloaded to nginx (see upload-target.ts)
//   PUT    <prefix>/_uploads/encrypted/<store>/<key…>  encrypted stores: nginx → worker, never the app
//   GET    <internalPrefix>/upload-auth       nginx's auth_request for those PUTs, before the body is read
// S3 bytes go straight to S3 over presigned URLs; fs bytes go to a temp file written by nginx;
// bytes for encrypted stores go through the worker, which encrypts them on the way.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { ConfigError } from '../../config/errors.js';
import type { SluiceConfig } from '../../config/schema.js';
import { authenticationRequired, badRequest, notFound, PublicError } from '../../errors.js';
import type { SharedState } from '../../state/shared-state.js';
import type { Store } from '../../storage/types.js';
import { finalizeFsUpload } from '../../uploads/fs-finalize.js';
import { BODY_FILE_HEADER } from '../../contract/headers.js';
import { encryptedUploadPath, fsUploadPath, uploadAuthLocation } from '../../contract/nginx-locations.js';
import { onlyAuthRequestStatuses } from '../middleware/auth-request-statuses.js';
import { resolveUploadTarget } from './upload-target.js';
import { assertWorkerSecret } from '../../config/worker-schema.js';
import { CRYPT_TICKET_HEADER } from '../../contract/tickets.js';
import { signCryptTicket } from '../../crypto/ticket.js';
import { parseUploadRequest } from '../../uploads/request.js';
import { createReservations } from '../../uploads/reservations.js';
import { createUploadService, pendingReservationSeconds } from '../../uploads/service.js';
import { optional, type AccessPipelineDeps, type AccessState } from '../middleware/access-state.js';
import { authenticate, tokenCredentials } from '../middleware/authenticate.js';
import { authorize } from '../middleware/authorize.js';
import { readJsonBody } from '../json-body.js';

export interface UploadRouteDeps extends AccessPipelineDeps {
  readonly config: SluiceConfig;
  readonly stores: ReadonlyMap<string, Store>;
  /** Write-once state: Redis, or memory (one app instance only). */
  readonly state: SharedState;
}

const MAX_BODY_BYTES = 256 * 1024;

const completeSchema = z.strictObject({
  parts: z
    .array(z.strictObject({ partNumber: z.number().int().min(1), etag: z.string().min(1).max(200) }))
    .min(1)
    .max(10_000),
});

export function uploadRoutes(deps: UploadRouteDeps): Router {
  const settings = deps.config.uploads;
  const { presigned, nginxBody: fsStores, encrypted } = uploadStores(deps.config, deps.stores);
  const encryptedStores = new Map([...deps.stores].filter(([name]) => encrypted.has(name)));
  const workerSecret = encryptedStores.size > 0 ? assertWorkerSecret(deps.config.worker) : '';
  const fsTarget = new Map([[fsUploadPath(deps.config.prefix), fsStores]]);
  const anyTarget = new Map([...fsTarget, [encryptedUploadPath(deps.config.prefix), encryptedStores]]);
  const uploaderFor = (store: string): Store => {
    const target = presigned.get(store);
    if (target === undefined) throw notFound('unknown store');
    return target;
  };
  const reservations = createReservations(deps.state);
  const service = createUploadService(settings, reservations);
  const base = `${deps.config.prefix}/_uploads`;
  // Uploading takes a real token: a share link never authenticates these calls.
  const caller = [authenticate(deps.authenticator, tokenCredentials), requireToken, ...optional(deps.rateLimit)];
  const router = new Router();

  router.post(
    base,
    ...caller,
    async (ctx: Context, next: Next) => {
      const request = parseUploadRequest(await readJsonBody(ctx, MAX_BODY_BYTES), settings);
      const store = deps.stores.get(request.store);
      if (fsStores.has(request.store)) throw badRequest(`fs stores take PUT ${base}/fs/<store>/<key>`);
      if (encrypted.has(request.store)) throw badRequest(`encrypted stores take PUT ${base}/encrypted/<store>/<key>`);
      if (store === undefined || !presigned.has(request.store)) throw notFound('unknown store');
      const state = ctx.state as UploadState;
      state.store = store;
      state.key = request.key;
      state.action = 'write';
      state.upload = request;
      await next();
    },
    authorize(deps),
    async (ctx: Context) => {
      const state = ctx.state as UploadState;
      const plan = await service.plan(state.upload, uploaderFor(state.store.name), state.subject.id as string);
      ctx.status = 201;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = plan;
    },
  );

  router.post(`${base}/:id/complete`, ...caller, async (ctx: Context) => {
    const parsed = completeSchema.safeParse(await readJsonBody(ctx, MAX_BODY_BYTES));
    if (!parsed.success) throw badRequest('expected {parts: [{partNumber, etag}]}');
    const done = await service.complete(ctx.params.id as string, parsed.data.parts, subjectOf(ctx), uploaderFor);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = done;
  });

  router.delete(`${base}/:id`, ...caller, async (ctx: Context) => {
    await service.abort(ctx.params.id as string, subjectOf(ctx), uploaderFor);
    ctx.status = 204;
    ctx.set('Cache-Control', 'no-store');
  });
  router.put(
    `${deps.config.prefix}/_uploads/fs/{*rest}`,
    resolveUploadTarget(fsTarget, (ctx) => ctx.req.url ?? ''),
    ...caller,
    authorize(deps),
    async (ctx: Context) => {
      const { store, key } = ctx.state as AccessState;
      const bodyFile = ctx.get(BODY_FILE_HEADER);
      if (bodyFile === '') throw new PublicError(400, 'missing request body');
      const size = await finalizeFsUpload(store, key, bodyFile, settings.maxBytes);
      ctx.status = 201;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { store: store.name, key: key.value, size };
    },
  );

  // nginx's auth_request subrequest: the client's raw request line arrives in X-Original-URI.
  router.get(
    uploadAuthLocation(deps.config.nginx.internalPrefix),
    onlyAuthRequestStatuses,
    resolveUploadTarget(anyTarget, (ctx) => ctx.get('X-Original-URI')),
    ...caller,
    authorize(deps),
    async (ctx: Context) => {
      if (ctx.get('X-Original-Method') !== 'PUT') throw new PublicError(403, 'forbidden');
      const { store, key, subject } = ctx.state as AccessState;
      if (store.encrypted) {
        // fs: the worker's link() is write-once by itself. s3: hold the key while the upload runs;
        // the worker refuses a key that already exists (409).
        if (store.kind === 's3' && !(await reservations.reserve(`key:${store.name}/${key.value}`, subject.id as string, pendingReservationSeconds(settings)))) {
          throw new PublicError(409, 'key already written');
        }
        ctx.set(CRYPT_TICKET_HEADER, signCryptTicket({ op: 'write', store: store.name, segments: key.segments }, workerSecret));
      }
      ctx.status = 204;
      ctx.set('Cache-Control', 'no-store');
    },
  );
  return router;
}

interface UploadState extends AccessState {
  upload: ReturnType<typeof parseUploadRequest>;
}

/** The stores that accept uploads (uploads.stores, default: every store), by how their bytes
 * arrive: presigned URLs, a body file nginx wrote, or through the worker (encrypted stores). */
function uploadStores(
  config: SluiceConfig,
  stores: ReadonlyMap<string, Store>,
): { presigned: Map<string, Store>; nginxBody: Map<string, Store>; encrypted: Set<string> } {
  const presigned = new Map<string, Store>();
  const nginxBody = new Map<string, Store>();
  const encrypted = new Set<string>();
  for (const [index, name] of (config.uploads.stores ?? Object.keys(config.stores)).entries()) {
    const store = stores.get(name);
    if (config.stores[name] === undefined || store === undefined) throw ConfigError.forKey(`uploads.stores.${index}`, `unknown store "${name}"`);
    if (store.encrypted) encrypted.add(name);
    else if (store.directUpload.via === 'presigned-url') presigned.set(name, store);
    else if (store.directUpload.via === 'nginx-body-file') nginxBody.set(name, store);
  }
  return { presigned, nginxBody, encrypted };
}

function subjectOf(ctx: Context): string {
  return (ctx.state as AccessState).subject.id as string;
}

async function requireToken(ctx: Context, next: Next): Promise<void> {
  const subject = (ctx.state as AccessState).subject;
  if (!subject.authenticated || subject.id === null) {
    throw authenticationRequired();
  }
  await next();
}
