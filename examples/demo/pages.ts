// The demo's HTML: plain server-rendered pages. Every file URL points at Sluice; the browser
// sends the token cookie with it, and nginx (not this app) sends the bytes.

export interface FileEntry {
  readonly key: string;
  readonly name: string;
  /** Inline view and forced download, both Sluice URLs. */
  readonly viewUrl: string;
  readonly downloadUrl: string;
}

export interface Thumbnail {
  readonly name: string;
  readonly src: string;
  /** How the URL is authorized: Sluice's rules (native) or the host app's signature (imgproxy). */
  readonly via: 'native' | 'signed';
}

export interface FilesPage {
  readonly user: string;
  readonly files: readonly FileEntry[];
  readonly thumbnails: readonly Thumbnail[];
  readonly videoUrl: string;
  readonly notice?: string;
}

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · Sluice demo</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
  header { display: flex; justify-content: space-between; align-items: center; border-bottom: 1px solid #ddd; }
  .gallery { display: flex; flex-wrap: wrap; gap: 12px; }
  figure { margin: 0; } figcaption { font-size: 12px; color: #666; }
  img.thumb { width: 240px; height: 160px; border-radius: 6px; background: #eee; display: block; }
  li form { display: inline; } .notice { background: #eef6ee; padding: .5rem 1rem; border-radius: 6px; word-break: break-all; }
  .error { color: #a00; }
</style></head><body>${body}</body></html>`;
}

export function loginPage(users: readonly string[], error?: string): string {
  return layout(
    'Log in',
    `<h1>Sluice demo host app</h1>
<p>Log in as ${users.map((u) => `<code>${escape(u)}</code> (password <code>${escape(u)}-demo</code>)`).join(' or ')}.</p>
${error === undefined ? '' : `<p class="error" role="alert">${escape(error)}</p>`}
<form method="post" action="/app/login">
  <label>User <input name="user" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
</form>`,
  );
}

export function filesPage(page: FilesPage): string {
  const files = page.files
    .map(
      (f) => `<li data-key="${escape(f.key)}"><a class="view" href="${escape(f.viewUrl)}">${escape(f.name)}</a>
  · <a class="download" href="${escape(f.downloadUrl)}">download</a>
  · <form method="post" action="/app/share"><input type="hidden" name="key" value="${escape(f.key)}"><button class="share" type="submit">share</button></form></li>`,
    )
    .join('\n');
  const thumbs = page.thumbnails
    .map((t) => `<figure><img class="thumb" data-via="${t.via}" alt="${escape(t.name)}" src="${escape(t.src)}"><figcaption>${escape(t.name)} (${t.via})</figcaption></figure>`)
    .join('\n');
  return layout(
    `Files of ${page.user}`,
    `<header><h1>Files of <span id="user">${escape(page.user)}</span></h1>
<form method="post" action="/app/logout"><button type="submit">Log out</button></form></header>
${page.notice ?? ''}
<h2>Your files</h2>
<ul id="files">${files}</ul>
<h2>Gallery</h2>
<div class="gallery" id="gallery">${thumbs}</div>
<h2>Video</h2>
<video id="clip" controls preload="metadata" width="320" height="180" src="${escape(page.videoUrl)}"></video>`,
  );
}

export function sharedNotice(link: { id: string; url: string; expiresAt: string }): string {
  return `<div class="notice" id="shared">Share link (until ${escape(link.expiresAt)}):
<a id="share-link" data-link-id="${escape(link.id)}" href="${escape(link.url)}">${escape(link.url)}</a>
<form method="post" action="/app/share/revoke"><input type="hidden" name="id" value="${escape(link.id)}"><button id="revoke" type="submit">revoke</button></form></div>`;
}

export function revokedNotice(): string {
  return '<div class="notice" id="revoked">The link is revoked: it now answers 410.</div>';
}
