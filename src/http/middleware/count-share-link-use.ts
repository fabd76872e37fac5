// Counted links: a GET takes one use, atomically, after the request is authorized (so a refused
// request never uses one up); a HEAD only checks that one is left. A use counts even when the
// transfer fails afterwards: the count is about handing out access, not about bytes delivered.
import type { Context, Next } from 'koa';
import { PublicError } from '../../errors.js';
import type { AccessState } from './access-state.js';
import type { SharingState } from '../../sharing/state.js';

export function countShareLinkUse(state: SharingState) {
  return async function countShareLinkUseMiddleware(ctx: Context, next: Next): Promise<void> {
    const { subject, action } = ctx.state as AccessState;
    const grant = subject.via === 'share-link' ? subject.share : undefined;
    if (grant?.maxDownloads !== undefined) {
      const left =
        action === 'read'
          ? await state.countDownload(grant.linkId, grant.maxDownloads, grant.expiresAt)
          : (await state.downloadsUsed(grant.linkId)) < grant.maxDownloads;
      if (!left) throw new PublicError(410, 'share link used up');
    }
    await next();
  };
}
