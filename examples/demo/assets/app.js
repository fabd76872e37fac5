// The demo's page script (plain browser JavaScript, no build step): local times, copy buttons,
// uploads with progress (fs and vault through nginx, S3 presigned and multipart), the "under the
// hood" panel and the rate-limit button. Every request goes to Sluice with the session cookie.

const $ = (selector, root = document) => root.querySelector(selector);
const encodeKey = (key) => key.split('/').map(encodeURIComponent).join('/');

function localTimes() {
  for (const t of document.querySelectorAll('time[datetime]')) {
    const date = new Date(t.getAttribute('datetime'));
    if (!Number.isNaN(date.getTime())) t.textContent = date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  }
}

function copyButtons() {
  for (const button of document.querySelectorAll('button[data-copy]')) {
    button.addEventListener('click', async () => {
      const input = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(input.value);
      } catch {
        input.select();
        document.execCommand('copy');
      }
      const label = button.textContent;
      button.textContent = 'Copied ✓';
      setTimeout(() => (button.textContent = label), 1500);
    });
  }
}

// --- uploads ---------------------------------------------------------------------------------

const MESSAGES = {
  400: 'Sluice refused this name (a clean file name, please).',
  401: 'Your session has ended: log in again.',
  403: 'You may not upload there.',
  409: 'A file with this name already exists — uploads never overwrite (write-once). Rename it and try again.',
  413: 'This file is larger than the upload limit.',
  415: 'This type of file is not accepted here.',
  429: 'Too many requests: wait a moment and try again.',
  503: 'Sluice cannot reach a service it needs right now; nothing was written.',
};

async function problem(status, body) {
  let reason = '';
  try {
    reason = JSON.parse(body).error ?? '';
  } catch {}
  return `${MESSAGES[status] ?? `Upload failed (${status}).`}${reason ? ` Sluice said: “${reason}”.` : ''}`;
}

/** PUT with progress (fetch has no upload progress): resolves {status, body, etag}. */
function put(url, body, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded);
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText, etag: xhr.getResponseHeader('ETag') });
    xhr.onerror = () => reject(new Error('network error'));
    xhr.send(body);
  });
}

async function uploadS3(store, key, file, progress) {
  const planned = await fetch('/files/_uploads', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ store, key, size: file.size, contentType: file.type || 'application/octet-stream' }),
  });
  const text = await planned.text();
  if (planned.status !== 201) return { status: planned.status, body: text };
  const plan = JSON.parse(text);
  // The presigned URL names the bucket's endpoint; the page keeps its path (nginx, or a bucket
  // with CORS, answers it on this origin).
  const local = (u) => {
    const url = new URL(u);
    return `${url.pathname}${url.search}`;
  };
  if (plan.url !== undefined) {
    const headers = Object.fromEntries(Object.entries(plan.headers ?? {}).filter(([h]) => !/^(content-length|host)$/i.test(h)));
    const res = await put(local(plan.url), file, headers, (n) => progress(n, 'single PUT'));
    return res.status === 200 ? { ...res, status: 201 } : res;
  }
  const done = new Array(plan.parts.length).fill(0);
  const etags = [];
  let offset = 0;
  for (const part of plan.parts) {
    const slice = file.slice(offset, offset + part.size);
    offset += part.size;
    const res = await put(local(part.url), slice, {}, (n) => {
      done[part.partNumber - 1] = n;
      progress(
        done.reduce((a, b) => a + b, 0),
        `multipart: part ${part.partNumber} of ${plan.parts.length}`,
      );
    });
    if (res.status !== 200) return res;
    etags.push({ partNumber: part.partNumber, etag: res.etag });
  }
  const completed = await fetch(`/files/_uploads/${encodeURIComponent(plan.uploadId)}/complete`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ parts: etags }),
  });
  return { status: completed.status === 200 ? 201 : completed.status, body: await completed.text() };
}

async function uploadOne(file, store, kind, user, list) {
  const key = `users/${user}/${file.name}`;
  const item = document.createElement('li');
  item.dataset.name = file.name;
  item.innerHTML = '<span class="file-name"></span><span class="state">starting…</span><progress max="1" value="0"></progress>';
  item.querySelector('.file-name').textContent = file.name;
  item.querySelector('progress').setAttribute('aria-label', `Upload of ${file.name}`);
  list.append(item);
  const state = item.querySelector('.state');
  const bar = item.querySelector('progress');
  bar.max = file.size || 1;
  const progress = (n, how) => {
    bar.value = n;
    state.textContent = `${Math.round((100 * n) / (file.size || 1))} %${how ? ` · ${how}` : ''}`;
  };
  try {
    let res;
    if (kind === 's3') res = await uploadS3(store, key, file, progress);
    else
      res = await put(`/files/_uploads/${kind === 'encrypted' ? 'encrypted' : 'fs'}/${store}/${encodeKey(key)}`, file, {}, (n) =>
        progress(n, kind === 'encrypted' ? 'encrypting in the worker' : 'nginx writes it'),
      );
    if (res.status !== 201) {
      state.textContent = await problem(res.status, res.body);
      state.className = 'state error';
      item.dataset.status = String(res.status);
      return false;
    }
    const registered = await fetch('/app/files', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ store, key }),
    });
    bar.value = bar.max;
    state.textContent = registered.ok ? 'Uploaded ✓' : 'Uploaded, but the library could not confirm it';
    state.className = 'state done';
    item.dataset.status = '201';
    return true;
  } catch (error) {
    state.textContent = `Upload failed: ${error.message}`;
    state.className = 'state error';
    return false;
  }
}

function uploads() {
  const form = $('#upload-form');
  if (form === null) return;
  const input = $('#upload-input');
  const drop = $('#drop');
  const list = $('#upload-list');
  const start = async (files) => {
    const select = $('#upload-store');
    const option = select.selectedOptions[0];
    const results = [];
    for (const file of files) results.push(await uploadOne(file, select.value, option.dataset.upload, form.dataset.user, list));
    input.value = '';
    if (results.some(Boolean)) {
      document.getElementById('show-uploads')?.parentElement.remove();
      const reload = document.createElement('li');
      // A new GET of the library (a bare "#files" would only scroll the old page).
      reload.innerHTML = `<a class="btn" href="/app/library?uploaded=${Date.now()}#files" id="show-uploads">Show in the library</a>`;
      list.append(reload);
    }
    list.dataset.finished = String(Number(list.dataset.finished ?? 0) + files.length);
  };
  input.addEventListener('change', () => start([...input.files]));
  for (const event of ['dragenter', 'dragover'])
    drop.addEventListener(event, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  for (const event of ['dragleave', 'drop']) drop.addEventListener(event, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    start([...e.dataTransfer.files]);
  });
  // The label opens the picker on click; make Enter/Space do the same for keyboard users.
  drop.tabIndex = 0;
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
}

// --- under the hood --------------------------------------------------------------------------

let filter = null;

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

async function refreshHood() {
  const body = $('#hood-rows');
  if (body === null) return;
  const query = filter === null ? '' : `?${new URLSearchParams(filter)}`;
  const res = await fetch(`/app/api/decisions${query}`, { cache: 'no-store' });
  if (!res.ok) return;
  const { rows } = await res.json();
  const shown = rows;
  body.replaceChildren();
  if (shown.length === 0) body.append(Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="6">No decisions yet.</td>' }));
  for (const r of shown) {
    const tr = document.createElement('tr');
    tr.dataset.requestId = r.requestId ?? '';
    tr.dataset.decision = r.decision;
    tr.dataset.action = r.action;
    tr.dataset.store = r.store;
    tr.dataset.key = r.key;
    tr.append(cell(new Date(r.time).toLocaleTimeString()), cell(`${r.action} ${r.store}/${r.key} — ${r.who}`));
    const decision = document.createElement('td');
    const span = document.createElement('span');
    span.className = `decision-${r.decision}`;
    span.textContent = r.decision + (r.reason ? ` (${r.reason})` : '');
    decision.append(span);
    tr.append(decision, cell(r.decidedBy), cell(`${r.latencyMs.toFixed(2)} ms`), cell(r.movedBy));
    body.append(tr);
  }
  const raw = $('#hood-raw');
  if (raw !== null && shown[0] !== undefined) {
    const { who, decidedBy, movedBy, ...line } = shown[0];
    raw.textContent = JSON.stringify({ audit: line }, null, 2);
  }
  $('#hood-filter').textContent = filter === null ? '' : `Showing ${filter.key} only.`;
}

function hood() {
  if ($('#hood') === null) return;
  for (const button of document.querySelectorAll('.hood-btn')) {
    button.addEventListener('click', async () => {
      filter = { store: button.dataset.store, key: button.dataset.key };
      // Make one request for it now, so there is a fresh line to look at.
      await fetch(`/files/${filter.store}/${encodeKey(filter.key)}`, { method: 'HEAD', cache: 'no-store' });
      await refreshHood();
      $('#hood').scrollIntoView({ behavior: 'smooth' });
    });
  }
  refreshHood();
  setInterval(() => document.visibilityState === 'visible' && refreshHood(), 3000);
}

// --- rate limit ------------------------------------------------------------------------------

function rateLimit() {
  const button = $('#try-ratelimit');
  if (button === null) return;
  button.addEventListener('click', async () => {
    const first = document.querySelector('.file[data-store][data-key]');
    const url = `/files/${first.dataset.store}/${encodeKey(first.dataset.key)}`;
    button.disabled = true;
    const statuses = await Promise.all(
      Array.from({ length: 80 }, () => fetch(url, { method: 'HEAD', cache: 'no-store' }).then((r) => [r.status, r.headers.get('Retry-After')])),
    );
    button.disabled = false;
    const ok = statuses.filter(([s]) => s === 200).length;
    const limited = statuses.filter(([s]) => s === 429);
    const out = $('#ratelimit-result');
    out.textContent = `${ok} allowed, ${limited.length} refused with 429 Too Many Requests. `;
    if (limited.length > 0) {
      const link = document.createElement('a');
      link.href = `/app/slow-down?retry=${encodeURIComponent(limited[0][1] ?? '1')}`;
      link.id = 'see-429';
      link.textContent = 'See the page a person gets';
      out.append(link);
    }
    refreshHood();
  });
}

document.addEventListener('DOMContentLoaded', () => {
  localTimes();
  copyButtons();
  uploads();
  hood();
  rateLimit();
});
