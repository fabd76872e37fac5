// PUT /crypt/write: an upload to an encrypted store that the app allowed (nginx's auth_request
// returned the ticket). The body streams from nginx through the cipher into the store's write-once
// put (fs: link() into place; s3: refused when the key exists, then multipart): memory is a chunk
// plus the S3 parts in flight, whatever the size.
import { pipeline, Transform } from 'node:stream';
import type { Context } from 'koa';
import { PublicError } from '../../errors.js';
import type { DataKey } from '../../crypto/keys.js';
import { encryptStream } from '../../crypto/stream.js';
import { CRYPT_TICKET_HEADER } from '../../contract/tickets.js';
import { verifyCryptTicket } from '../../crypto/ticket.js';
import type { Store } from '../../storage/types.js';

export interface CryptWriteDeps {
  readonly secret: string;
  /** The encrypted stores that accept uploads (the stores themselves: they hold ciphertext). */
  readonly writers: ReadonlyMap<string, Store>;
  /** The keyring's newest key: every new object is sealed under it. */
  readonly currentKey: () => DataKey;
  readonly chunkSize: number;
  readonly maxBytes: number;
}

export async function cryptWrite(ctx: Context, deps: CryptWriteDeps): Promise<void> {
  const ticket = verifyCryptTicket(ctx.get(CRYPT_TICKET_HEADER) || undefined, 'write', deps.secret);
  const writer = ticket === null ? undefined : deps.writers.get(ticket.store);
  if (ticket === null || writer === undefined) throw new PublicError(403, 'forbidden');
  if (Number(ctx.get('Content-Length') || 0) > deps.maxBytes) throw new PublicError(413, 'upload too large');
  const key = { segments: ticket.segments, value: ticket.segments.join('/') };
  const dataKey = deps.currentKey();
  let size = 0;
  // nginx enforces client_max_body_size too; counting here keeps chunked bodies bounded as well.
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      callback(size > deps.maxBytes ? new PublicError(413, 'upload too large') : null, chunk);
    },
  });
  const clientGone = new AbortController();
  ctx.req.once('close', () => {
    if (!ctx.req.complete) clientGone.abort();
  });
  const ciphertext = pipeline(ctx.req, counter, encryptStream(dataKey, deps.chunkSize, key.value), () => undefined);
  await writer.put(key, ciphertext, { contentType: 'application/octet-stream', mode: 'create', signal: clientGone.signal });
  ctx.status = 201;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { store: ticket.store, key: key.value, size, keyId: dataKey.id };
}
