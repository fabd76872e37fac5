// The demo's HTML: server-rendered pages, one stylesheet and one small script (assets/). Every
// file URL points at Sluice; the browser sends the token cookie with it, and nginx (not this app)
// sends the bytes.
import { isImage, viewable, type FileRecord, type LinkRecord } from './library.js';

export interface Thumb {
  /** 1× and 2× URLs (srcset). */
  readonly src: string;
  readonly src2x: string;
  /** How the URL is authorized: the host app's signature, or Sluice's rules. */
  readonly via: 'signed' | 'rules';
}

export interface FileView extends FileRecord {
  readonly viewUrl: string;
  readonly downloadUrl: string;
  readonly thumb?: Thumb;
  /** For videos: the poster image. */
  readonly poster?: string;
}

export interface StoreView {
  readonly name: string;
  readonly label: string;
  readonly how: string;
  /** Upload path kind: fs offload, encrypted (through the worker) or presigned S3. */
  readonly upload: 'fs' | 'encrypted' | 's3';
}

export interface LibraryPage {
  readonly user: string;
  readonly stores: readonly StoreView[];
  readonly files: readonly FileView[];
  readonly vault: readonly FileView[];
  readonly gallery: readonly FileView[];
  readonly links: readonly (LinkRecord & { readonly absoluteUrl: string })[];
  readonly countedLinks: boolean;
  readonly notice?: string;
  readonly tryForbidden: string;
  readonly rateLimit: { readonly requestsPerSecond: number; readonly burst: number };
}

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function formatBytes(size: number | null): string {
  if (size === null) return '—';
  if (size < 1024) return `${size} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function layout(title: string, body: string, options: { user?: string } = {}): string {
  const nav =
    options.user === undefined
      ? ''
      : `<nav aria-label="Account"><span class="who">Signed in as <strong id="user">${escapeHtml(options.user)}</strong></span>
<form method="post" action="/app/logout"><button class="btn ghost" type="submit">Log out</button></form></nav>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Sluice demo</title>
<link rel="icon" href="/app/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app/static/style.css">
<script src="/app/static/app.js" defer></script>
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/"><img src="/app/static/favicon.svg" alt="" width="28" height="28"> Sluice <span>demo</span></a>${nav}</header>
<main id="main">${body}</main>
<footer class="foot">A host app of a few hundred lines: it logs you in and decides what to show. <strong>Sluice</strong> decides who gets which bytes; <strong>nginx</strong> moves them.</footer>
</body></html>`;
}

export function loginPage(users: readonly { name: string; password: string; about: string }[], error?: string): string {
  return layout(
    'Log in',
    `<section class="card narrow">
<h1>Log in</h1>
<p class="lead">Private files behind nginx: thumbnails, video with seeking, uploads, an encrypted vault and share links — each request decided by Sluice.</p>
${error === undefined ? '' : `<p class="alert error" role="alert">${escapeHtml(error)}</p>`}
<form method="post" action="/app/login" class="stack">
  <label for="login-user">User</label><input id="login-user" name="user" autocomplete="username" required>
  <label for="login-password">Password</label><input id="login-password" name="password" type="password" autocomplete="current-password" required>
  <button class="btn primary" type="submit">Log in</button>
</form>
<h2 class="small">Demo accounts</h2>
<ul class="accounts">${users.map((u) => `<li><code>${escapeHtml(u.name)}</code> / <code>${escapeHtml(u.password)}</code> — ${escapeHtml(u.about)}</li>`).join('')}</ul>
</section>`,
  );
}

function fileCard(f: FileView, canShare: boolean, countedLinks: boolean): string {
  const id = `f-${Buffer.from(`${f.store}/${f.key}`).toString('base64url')}`;
  let media: string;
  if (f.type.startsWith('video/')) {
    media = `<video class="media" controls preload="metadata" ${f.poster === undefined ? '' : `poster="${escapeHtml(f.poster)}"`} src="${escapeHtml(f.viewUrl)}" aria-label="${escapeHtml(f.name)}"></video>`;
  } else if (f.thumb !== undefined && isImage(f.type)) {
    media = `<img class="thumb media" loading="lazy" decoding="async" width="240" height="160" data-via="${f.thumb.via}" alt="${escapeHtml(f.name)}" src="${escapeHtml(f.thumb.src)}" srcset="${escapeHtml(f.thumb.src)} 1x, ${escapeHtml(f.thumb.src2x)} 2x">`;
  } else {
    media = `<div class="icon media" aria-hidden="true">${escapeHtml((f.name.split('.').pop() ?? 'file').slice(0, 4).toUpperCase())}</div>`;
  }
  const share = !canShare
    ? ''
    : `<details class="share"><summary class="btn">Share…</summary>
<form method="post" action="/app/share" class="stack share-form">
  <input type="hidden" name="store" value="${escapeHtml(f.store)}"><input type="hidden" name="key" value="${escapeHtml(f.key)}">
  <label for="${id}-exp">Link expires in</label>
  <select id="${id}-exp" name="expires"><option value="600">10 minutes</option><option value="3600" selected>1 hour</option><option value="86400">1 day</option><option value="604800">7 days</option></select>
  <label for="${id}-uses">Downloads allowed</label>
  <input id="${id}-uses" name="uses" type="number" min="1" max="1000" placeholder="unlimited" ${countedLinks ? '' : `disabled aria-describedby="${id}-uses-note"`}>
  ${countedLinks ? '' : `<small id="${id}-uses-note" class="note">Counting downloads needs Redis (shared state); this demo runs without it.</small>`}
  <button class="btn primary create-link" type="submit">Create link</button>
</form></details>`;
  return `<article class="file" data-store="${escapeHtml(f.store)}" data-key="${escapeHtml(f.key)}">
${media}
<div class="body"><h3 class="name" title="${escapeHtml(f.name)}">${escapeHtml(f.name)}</h3>
<p class="meta"><span class="size">${formatBytes(f.size)}</span> · <span>${escapeHtml(f.type)}</span></p>
<div class="actions">${viewable(f.type) ? `<a class="btn view" href="${escapeHtml(f.viewUrl)}">View</a>` : ''}
<a class="btn download" href="${escapeHtml(f.downloadUrl)}" download>Download</a>
${share}</div>
<button class="linkish hood-btn" type="button" data-key="${escapeHtml(f.key)}" data-store="${escapeHtml(f.store)}">Under the hood<span class="sr-only">: ${escapeHtml(f.name)}</span></button></div></article>`;
}

function grid(files: readonly FileView[], canShare: boolean, countedLinks: boolean, id: string): string {
  return files.length === 0
    ? `<p class="empty" id="${id}">Nothing here yet.</p>`
    : `<div class="grid" id="${id}">${files.map((f) => fileCard(f, canShare, countedLinks)).join('\n')}</div>`;
}

export function libraryPage(page: LibraryPage): string {
  const storeOptions = page.stores.map((s) => `<option value="${escapeHtml(s.name)}" data-upload="${s.upload}">${escapeHtml(s.label)}</option>`).join('');
  const storeHelp = page.stores.map((s) => `<li><strong>${escapeHtml(s.label)}</strong>: ${escapeHtml(s.how)}</li>`).join('');
  const links =
    page.links.length === 0
      ? '<p class="empty" id="no-links">No active links. Use “Share…” on a file.</p>'
      : `<div class="table-wrap"><table id="link-table"><caption class="sr-only">Your active share links</caption>
<thead><tr><th scope="col">File</th><th scope="col">Expires</th><th scope="col">Downloads</th><th scope="col">Link</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>
${page.links
  .map(
    (
      l,
    ) => `<tr data-link-id="${escapeHtml(l.id)}"><td>${escapeHtml(l.name)}</td><td><time datetime="${escapeHtml(l.expiresAt)}">${escapeHtml(l.expiresAt)}</time></td>
<td>${l.maxDownloads === null ? 'unlimited' : `up to ${l.maxDownloads}`}</td>
<td class="copy-cell"><label class="sr-only" for="url-${escapeHtml(l.id)}">Link to ${escapeHtml(l.name)}</label><input id="url-${escapeHtml(l.id)}" class="link-url" readonly value="${escapeHtml(l.absoluteUrl)}">
<button class="btn copy" type="button" data-copy="url-${escapeHtml(l.id)}">Copy</button></td>
<td><form method="post" action="/app/share/revoke"><input type="hidden" name="id" value="${escapeHtml(l.id)}"><button class="btn danger revoke" type="submit">Revoke<span class="sr-only"> link to ${escapeHtml(l.name)}</span></button></form></td></tr>`,
  )
  .join('\n')}</tbody></table></div>`;
  return layout(
    'Library',
    `${page.notice ?? ''}
<section class="intro"><h1>Your library</h1>
<p class="lead">Every link, thumbnail and video here points at Sluice. Sluice checks your session cookie against its rules and writes an audit line; nginx sends the bytes. Open <a href="#hood">Under the hood</a> to watch the decisions.</p></section>

<section class="card" aria-labelledby="files-h"><h2 id="files-h">My files</h2>
${grid(page.files, true, page.countedLinks, 'files')}</section>

<section class="card" id="upload" aria-labelledby="upload-h"><h2 id="upload-h">Upload</h2>
<form id="upload-form" class="upload" data-user="${escapeHtml(page.user)}">
  <div class="dest"><label for="upload-store">Destination</label>
  <select id="upload-store" name="store">${storeOptions}</select>
  <ul class="how">${storeHelp}</ul></div>
  <label class="drop" id="drop" for="upload-input"><span class="drop-title">Drop files here or <u>choose files</u></span><span class="drop-note">They go into your folder; existing names are never overwritten.</span></label>
  <input id="upload-input" class="visually-file" type="file" multiple>
</form>
<ul id="upload-list" class="uploads" aria-live="polite"></ul></section>

<section class="card" id="vault-section" aria-labelledby="vault-h"><h2 id="vault-h">Encrypted vault</h2>
<p class="note">Stored as AES-256-GCM ciphertext. Sluice decides; the worker decrypts on the way out (Range requests too: seek the video); nginx relays. Thumbnails are made from the decrypted source.</p>
${grid(page.vault, true, page.countedLinks, 'vault')}</section>

${page.gallery.length === 0 ? '' : `<section class="card" aria-labelledby="gallery-h"><h2 id="gallery-h">Staff gallery</h2><p class="note">Visible to the <code>staff</code> group. These thumbnail URLs are signed by this host app (imgproxy style); the files themselves stay behind Sluice's rules.</p>${grid(page.gallery, false, page.countedLinks, 'gallery')}</section>`}

<section class="card" id="links" aria-labelledby="links-h"><h2 id="links-h">My share links</h2>
<p class="note">Anyone with a link can open the file until it expires or you revoke it — and only while you still may read it yourself: Sluice re-checks you on every use.</p>
${links}</section>

<section class="card" id="try" aria-labelledby="try-h"><h2 id="try-h">Things to try</h2>
<ul class="tries">
<li><a href="${escapeHtml(page.tryForbidden)}" id="try-forbidden">Open someone else's file</a> — Sluice refuses (403), the audit line says why.</li>
<li><button class="btn" type="button" id="try-ratelimit">Send 80 requests at once</button> — the limit is ${page.rateLimit.burst} at once, then ${page.rateLimit.requestsPerSecond} per second per user; the rest get 429.</li>
<li>Open a share link in a private window: no login needed. Revoke it and open it again.</li>
</ul><p id="ratelimit-result" role="status"></p></section>

<section class="card" id="hood" aria-labelledby="hood-h"><h2 id="hood-h">Under the hood</h2>
<p class="note">Sluice's audit lines for your files, newest first (read by this demo from the gateway's log; they never contain tokens). <span id="hood-filter"></span></p>
<div class="table-wrap"><table id="hood-table"><caption class="sr-only">Recent access decisions</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Request</th><th scope="col">Decision</th><th scope="col">Decided by</th><th scope="col">Latency</th><th scope="col">Bytes moved by</th></tr></thead>
<tbody id="hood-rows"><tr><td colspan="6">Loading…</td></tr></tbody></table></div>
<details class="raw"><summary>Latest audit line (JSON)</summary><pre id="hood-raw"></pre></details></section>`,
    { user: page.user },
  );
}

export function sharedNotice(link: LinkRecord, absoluteUrl: string): string {
  return `<div class="alert ok" id="shared" role="status"><p><strong>Link to “${escapeHtml(link.name)}” created.</strong> It works until <time datetime="${escapeHtml(link.expiresAt)}">${escapeHtml(link.expiresAt)}</time>${link.maxDownloads === null ? '' : ` for up to ${link.maxDownloads} download${link.maxDownloads === 1 ? '' : 's'}`}.</p>
<p class="copy-cell"><label class="sr-only" for="shared-url">Link</label><input id="shared-url" class="link-url" readonly value="${escapeHtml(absoluteUrl)}" data-link-id="${escapeHtml(link.id)}"> <button class="btn primary copy" type="button" data-copy="shared-url">Copy link</button></p></div>`;
}

export function revokedNotice(name: string): string {
  return `<div class="alert ok" id="revoked" role="status">The link to “${escapeHtml(name)}” is revoked: opening it now says it is gone (410).</div>`;
}

export interface SharedView {
  readonly name: string;
  readonly size: number | null;
  readonly type: string;
  readonly from?: string;
  readonly downloadUrl: string;
  readonly viewUrl: string;
  readonly counted: boolean;
  readonly expiresAt?: string;
}

export function sharedPage(s: SharedView): string {
  const preview = s.counted
    ? '<p class="note">No preview: this link counts downloads.</p>'
    : isImage(s.type)
      ? `<img class="preview" src="${escapeHtml(s.viewUrl)}" alt="${escapeHtml(s.name)}">`
      : s.type.startsWith('video/')
        ? `<video class="preview" controls preload="metadata" src="${escapeHtml(s.viewUrl)}"></video>`
        : '';
  return layout(
    s.name,
    `<section class="card narrow" id="shared-file"><p class="eyebrow">${s.from === undefined ? 'Shared with you' : `${escapeHtml(s.from)} shared a file with you`}</p>
<h1>${escapeHtml(s.name)}</h1><p class="meta">${formatBytes(s.size)} · ${escapeHtml(s.type)}${s.expiresAt === undefined ? '' : ` · link valid until <time datetime="${escapeHtml(s.expiresAt)}">${escapeHtml(s.expiresAt)}</time>`}</p>
${preview}
<p class="actions">${viewable(s.type) && !s.counted ? `<a class="btn" href="${escapeHtml(s.viewUrl)}">Open</a>` : ''}<a class="btn primary" id="shared-download" href="${escapeHtml(s.downloadUrl)}" download>Download</a></p>
<p class="note">No account needed: the link itself is the permission, checked by Sluice on every use.</p></section>`,
  );
}

const ERRORS: Readonly<Record<number, { title: string; text: string }>> = {
  400: { title: 'That request was not understood', text: 'The address looks damaged.' },
  401: { title: 'Please log in', text: 'This file is private. Log in to see it — or ask its owner for a share link.' },
  403: { title: 'That file is not yours', text: 'You are logged in, but Sluice’s rules do not let you open this file. Only its owner (or a share link) can.' },
  404: { title: 'Not found', text: 'There is nothing at this address.' },
  405: { title: 'Not here', text: 'This address takes a form submission; go back to the library.' },
  409: { title: 'Already exists', text: 'Files are write-once: an existing name is never overwritten.' },
  410: { title: 'This link is gone', text: 'The share link was revoked by its owner, has expired, or was used up. Ask the owner for a new one.' },
  429: { title: 'Slow down', text: 'Too many requests at once. Sluice allows a burst, then a steady rate per user; wait a moment and try again.' },
  502: { title: 'Storage is not answering', text: 'Try again in a moment.' },
  503: { title: 'Temporarily unavailable', text: 'A service Sluice depends on is not answering. Try again in a moment.' },
};

export function errorPage(status: number, options: { detail?: string; loggedIn?: boolean; retryAfter?: string } = {}): string {
  const e = ERRORS[status] ?? { title: 'Something went wrong', text: 'The demo could not complete that request.' };
  const action =
    status === 401
      ? '<a class="btn primary" href="/">Log in</a>'
      : options.loggedIn === false
        ? '<a class="btn primary" href="/">Home</a>'
        : '<a class="btn primary" href="/app/library">Back to your library</a>';
  return layout(
    e.title,
    `<section class="card narrow error-page" id="error" data-status="${status}"><p class="eyebrow">Error ${status}</p><h1>${escapeHtml(e.title)}</h1><p class="lead">${escapeHtml(e.text)}</p>
${options.retryAfter === undefined ? '' : `<p>Sluice said: try again after ${escapeHtml(options.retryAfter)} s.</p>`}
${options.detail === undefined ? '' : `<p class="note">Sluice's answer: <code>${escapeHtml(options.detail)}</code></p>`}
<p class="actions">${action}</p></section>`,
  );
}
