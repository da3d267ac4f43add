// The offline outbox (docs/offline.md): submissions and drafts kept in IndexedDB until the
// server has acknowledged them, and the rules for sending them.
//
// One module, `Outbox`, with an explicit interface (the object returned at the end). It is
// defined once, in the page bundle (/app.js); the service worker imports that same file
// (importScripts), so pages and the worker run the same code and a phone downloads it once.
// Its pure functions use no browser API and are unit-tested with `node --test` (tests/js/).
// Full-line comments and indentation are stripped when served (dantoc/pwa/assets.py): keep
// comments on their own lines.

const Outbox = (() => {

// The database is versioned on its own, never with the worker: an upgrade only ever adds
// stores, so a new worker or page script keeps every queued item and draft. Version 2 added
// `drafts`.
const DB = 'dantoc-outbox', LOCK = 'dantoc-outbox', USER_CACHE = 'dantoc-user-';
// Retry waits double from 1 s up to this cap (budgets.md: faster than Enketo's 5 min).
const MAX_WAIT = 60000;
// A request that hangs (a dead cell tower) must not hold the outbox lock for ever.
const TIMEOUT = 30000;
// The owner id a signed-in page carries (templates/base.html).
const OWNER = /<meta name="dantoc-user" content="(\w+)">/;
// Items the page is sending itself right now (through htmx): flushes leave them alone.
const busy = new Set();
let dbp, channel, onChange = () => {};

// -- Pure functions (tests/js/outbox.test.js) ------------------------------------------------

// The next try of an item that failed: 1 s, 2 s, 4 s … after `now`, at most MAX_WAIT.
const backoff = (item, now = Date.now()) => ({attempts: item.attempts + 1,
  next_at: now + Math.min(MAX_WAIT, 1000 * 2 ** item.attempts)});

// Whether a send should try `item` now: queued, not being sent by the page, and its wait
// over (`force`: "Send now" and the `online` event do not wait).
const isDue = (item, now, force) => item.state === 'queued' && !busy.has(item.uuid) &&
  (force || item.next_at <= now);

// Send order: oldest first, as submitted (then by UUID: a total order).
const byAge = (a, b) => a.created - b.created || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);

// Pages whose signed-in copy may be kept per user for opening offline: the forms, the
// "what is due" home and the outbox list. Never receipts, never htmx fragments.
const keepable = path => (path.startsWith('/entry/') && !path.startsWith('/entry/receipt/')) ||
  path === '/outbox';

// The owner id a page's HTML carries, else null (a signed-out page).
const ownerOf = html => (OWNER.exec(html) || [])[1] || null;

// The 32 bytes of an outbox key as the server sends it (base64); anything else throws, so
// a damaged answer is never stored as a key.
function keyBytes(b64) {
  const raw = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  if (raw.length !== 32) throw new Error('outbox key: ' + raw.length + ' bytes');
  return raw;
}

// What the server's answer to an outbox send means. `answer`: {status, redirected, body}
// (body: the JSON, or {}). For an item (`uuid` given) only a 2xx that echoes its UUID is an
// acknowledgement (reliability.md §4.2 rule 3); a draft is saved by any 2xx.
// 'ok' | 'retry' (no decision yet) | 'renew' (CSRF token aged) | 'paused' (signed out) |
// 'attention' (refused: kept, with the server's message).
function verdict({status, redirected, body}, uuid) {
  const e = (body && body.error) || {};
  if (redirected || status === 401) return 'paused';
  if (status >= 200 && status < 300) return uuid === undefined || body.uuid === uuid ? 'ok' : 'retry';
  if (status === 400 && e.code === 'csrf') return 'renew';
  if (status >= 500 || (status === 409 && e.code === 'in_flight')) return 'retry';
  return 'attention';
}

// What the answer to the page's own (htmx) send of `item` means: 'acked' (the receipt of
// its UUID came back, or, for a report an officer entered on a village's behalf, the review
// page of its UUID), 'invalid' (its form came back with errors: the server saved a
// draft), 'failed' (no answer, or a server error) or 'kept' (anything else: the outbox
// sends it again and files a refusal with the server's message).
function pageVerdict(item, {status, pushUrl, responseURL}) {
  const to = (pushUrl || '') + ' ' + (responseURL || '');
  const shown = ['/receipt/', '/review/'].some(page => to.includes(page + item.uuid));
  if (status >= 200 && status < 300 && shown) return 'acked';
  if (status === 200 && responseURL && new URL(responseURL).pathname === item.url) return 'invalid';
  return !status || status >= 500 ? 'failed' : 'kept';
}

// -- Encryption: AES-GCM with the owner's non-extractable key ------------------------------

const importKey = b64 => crypto.subtle.importKey('raw', keyBytes(b64), 'AES-GCM', false,
  ['encrypt', 'decrypt']);

// Encrypt {fields, label}. Without a key (not fetched yet: a first visit that went offline
// before anything was typed online), keep it readable rather than lose it; it is still
// bound to its owner.
async function seal(key, data) {
  if (!key) return {plain: data};
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const text = new TextEncoder().encode(JSON.stringify(data));
  return {iv, data: await crypto.subtle.encrypt({name: 'AES-GCM', iv}, key, text)};
}

async function unseal(key, box) {
  if (box.plain) return box.plain;
  const text = await crypto.subtle.decrypt({name: 'AES-GCM', iv: box.iv}, key, box.data);
  return JSON.parse(new TextDecoder().decode(text));
}

// -- IndexedDB -----------------------------------------------------------------------------

// One promise per IndexedDB request.
const req = r => new Promise((ok, fail) => {
  r.onsuccess = () => ok(r.result);
  r.onerror = () => fail(r.error);
});

function db() {
  return dbp || (dbp = new Promise((ok, fail) => {
    const r = indexedDB.open(DB, 2);
    r.onupgradeneeded = () => {
      const d = r.result;
      // items: keyPath uuid; keys: the owner's CryptoKey; meta: owner, persist, told,
      // paused; log: every local deletion of an item or draft, with its reason; drafts
      // (version 2): a form's draft the server could not take, keyPath uuid. Only missing
      // stores are created: an upgrade never touches what is stored.
      for (const [name, opts] of [['items', {keyPath: 'uuid'}], ['keys', {keyPath: 'owner'}],
        ['meta'], ['log', {autoIncrement: true}], ['drafts', {keyPath: 'uuid'}]]) {
        if (!d.objectStoreNames.contains(name)) d.createObjectStore(name, opts);
      }
    };
    r.onsuccess = () => {
      const d = r.result;
      // A newer page or worker upgrades the database: let it, and reopen on next use.
      d.onversionchange = () => { d.close(); dbp = null; };
      ok(d);
    };
    r.onerror = () => { dbp = null; fail(r.error); };
  }));
}

// Run fn(...stores) in one transaction and resolve after it committed. Writes are
// "strict": on disk before anyone is told the item is saved (reliability.md §4.2 rule 2).
async function tx(names, write, fn) {
  const t = (await db()).transaction(names, write ? 'readwrite' : 'readonly',
    {durability: write ? 'strict' : 'default'});
  const done = new Promise((ok, fail) => {
    t.oncomplete = ok;
    t.onerror = t.onabort = () => fail(t.error);
  });
  let result;
  try {
    result = await fn(...names.map(n => t.objectStore(n)));
  } catch (e) {
    try { t.abort(); } catch (_) { /* already finished */ }
    throw e;
  }
  await done;
  return result;
}

const getMeta = k => tx(['meta'], false, m => req(m.get(k)));
const setMeta = (k, v) => tx(['meta'], true, m => req(v === undefined ? m.delete(k) : m.put(v, k)));
// The items (or drafts) of one owner only, oldest first: another account's are never
// shown or sent.
const mine = async (owner, store = 'items') => owner
  ? (await tx([store], false, s => req(s.getAll()))).filter(i => i.owner === owner).sort(byAge) : [];
const keyOf = async owner => {
  const k = await tx(['keys'], false, s => req(s.get(owner)));
  return k && k.key;
};

// The owner's key, imported non-extractable from the server's copy: scripts can use it but
// never read it, and it is deleted at sign-out (docs/offline.md). Stored only for the
// phone's current owner, checked in the same transaction: a flush that read the session just
// before a sign-out must not bring the key back after it.
async function saveKey(owner, b64) {
  const key = await importKey(b64);
  await tx(['meta', 'keys'], true, async (m, s) => {
    if (await req(m.get('owner')) === owner) await req(s.put({owner, key}));
  });
}

const timeout = () => self.AbortSignal && AbortSignal.timeout ? AbortSignal.timeout(TIMEOUT) : undefined;

// The signed-in user's owner id, a fresh CSRF token and the outbox key (stored if new);
// null when signed out (401); throws when the server cannot be reached.
async function session() {
  const r = await fetch('/session/state', {cache: 'no-store', headers: {Accept: 'application/json'},
    signal: timeout()});
  if (r.status === 401) return null;
  if (!r.ok) throw new Error(r.status);
  const s = await r.json();
  if (!(await keyOf(s.user))) await saveKey(s.user, s.key);
  return s;
}

// Store a submission for `owner` (replacing an earlier copy of the same UUID: the user
// fixed it and submitted again). Its draft kept on this phone, if any, goes: the submit
// supersedes it. Resolves once it is on disk.
async function put(owner, uuid, url, fields, label) {
  const item = {uuid, owner, url, body: await seal(await keyOf(owner), {fields, label}),
    created: Date.now(), rev: Math.random(), attempts: 0, next_at: 0, state: 'queued', message: ''};
  await tx(['items', 'log', 'drafts'], true, async (s, log, drafts) => {
    const old = await req(s.get(uuid));
    if (old && old.owner !== owner) throw new Error('owner');
    if (old) await req(log.add({uuid, reason: 'replaced', at: Date.now()}));
    await req(s.put(item));
    await dropIn(drafts, log, uuid, owner, 'superseded');
  });
  return item;
}

// Drafts (docs/offline.md, "Drafts"): one per form UUID, kept when "Save draft" could not
// reach the server, encrypted and owner-bound like items, and sent with the outbox.
async function putDraft(owner, uuid, url, fields) {
  const draft = {uuid, owner, url, body: await seal(await keyOf(owner), {fields}), saved_at: Date.now()};
  await tx(['drafts'], true, async s => {
    const old = await req(s.get(uuid));
    if (old && old.owner !== owner) throw new Error('owner');
    await req(s.put(draft));
  });
}

// Delete the owner's draft of `uuid`, the reason logged; with `at`, only if it was not
// saved again since (an answer to the old content must not delete the new one).
async function dropIn(s, log, uuid, owner, reason, at) {
  const d = await req(s.get(uuid));
  if (!d || d.owner !== owner || at && d.saved_at !== at) return;
  await req(s.delete(uuid));
  await req(log.add({uuid, reason: 'draft ' + reason, at: Date.now()}));
}
const dropDraft = (...a) => tx(['drafts', 'log'], true, (s, log) => dropIn(s, log, ...a));

// Change a stored item, or delete it (change null, with the reason logged), unless it was
// replaced meanwhile by a newer submit of the same UUID (`rev` differs): an answer to the
// old content must not delete the new one.
const update = (item, change, reason) => tx(['items', 'log'], true, async (s, log) => {
  const cur = await req(s.get(item.uuid));
  if (!cur || cur.rev !== item.rev) return;
  if (change) return req(s.put(Object.assign(cur, change)));
  await req(s.delete(item.uuid));
  await req(log.add({uuid: item.uuid, reason, at: Date.now()}));
});

// The page's own send of `item` got an answer (`pageVerdict`): record it. Returns the
// verdict.
async function answered(item, response) {
  const v = pageVerdict(item, response);
  busy.delete(item.uuid);
  if (v === 'acked') await update(item, null, 'acknowledged');
  else await update(item, v === 'invalid' ? {state: 'attention', message: response.invalid}
    : v === 'failed' ? backoff(item) : {});
  return v;
}

// Tell every page (and the worker) that the outbox changed; `listen` sets this context's
// own listener (a BroadcastChannel does not deliver to its sender).
function bus() {
  if (channel === undefined) channel = self.BroadcastChannel ? new BroadcastChannel(LOCK) : null;
  return channel;
}
function changed(message) {
  message = message || {type: 'changed'};
  if (bus()) channel.postMessage(message);
  onChange(message);
}
function listen(fn) {
  onChange = fn;
  if (bus()) channel.onmessage = e => fn(e.data);
}

// POST a stored item or draft with a fresh CSRF token; [verdict, JSON] or, before any
// answer, 'down' (no network).
async function post(box, s, key, headers, uuid) {
  const {fields} = await unseal(key, box.body);
  const body = new URLSearchParams(fields);
  body.set('csrf_token', s.csrf);
  let r;
  try {
    r = await fetch(box.url, {method: 'POST', body, redirect: 'manual', signal: timeout(),
      headers: Object.assign({Accept: 'application/json', 'X-CSRFToken': s.csrf}, headers)});
  } catch (_) {
    return ['down', {}];
  }
  const j = await r.json().catch(() => ({}));
  return [verdict({status: r.status, redirected: r.type === 'opaqueredirect', body: j}, uuid), j];
}

// Save a kept draft on the server, through the form page's own "Save draft" (the htmx
// path: 200 and the status fragment once saved, no flash message left in the session).
// A refused draft stays on the phone with the server's message (not sent again: opening
// its form shows it, and saving or submitting there replaces it).
async function sendDraft(d, s, key) {
  const [v, j] = await post(d, s, key, {'HX-Request': 'true'});
  if (v === 'ok') await dropDraft(d.uuid, d.owner, 'acknowledged', d.saved_at);
  if (v === 'attention') {
    await tx(['drafts'], true, async st => {
      const cur = await req(st.get(d.uuid));
      if (cur && cur.saved_at === d.saved_at) await req(st.put(Object.assign(cur, {message: (j.error || {}).message || 'refused'})));
    });
  }
  return v;
}

// Send one item: the server's answer decides, never a guess; the item leaves only on a 2xx
// that echoes its UUID.
async function send(item, s, key) {
  const [v, j] = await post(item, s, key, {'Idempotency-Key': item.uuid}, item.uuid);
  if (v === 'ok') {
    await update(item, null, 'acknowledged');
    changed({type: 'acked', uuid: item.uuid, url: item.url, receipt: j.receipt});
  }
  if (v === 'retry') await update(item, backoff(item));
  // Refused (period closed, approved meanwhile, scope changed, answers to fix): kept,
  // with the server's message, on the "needs attention" list; the server kept a copy.
  if (v === 'attention') await update(item, {state: 'attention', message: (j.error || {}).message || ''});
  return v;
}

// Send the current owner's queued items, oldest first, one at a time, under a lock shared
// by every tab and the worker, then their drafts. `force`: also those still waiting out
// their backoff ("Send now", the `online` event). `wait`: queue behind a flush in progress
// instead of leaving it to finish the job.
function flush(force, wait) {
  // Known offline: nothing to try (the `online` event sends); "lie-fi" says true and is tried.
  if (navigator.onLine === false) return Promise.resolve();
  // Never an uncaught error: what failed stays queued, and is tried again.
  const go = () => drain(force).catch(() => {});
  if (!navigator.locks) return go();
  return navigator.locks.request(LOCK, {ifAvailable: !wait}, lock => lock && go());
}

async function drain(force) {
  const owner = await getMeta('owner');
  const due = i => isDue(i, Date.now(), force);
  const items = (await mine(owner)).filter(due);
  const drafts = await pending(owner);
  if (!items.length && !drafts.length) return;
  let s;
  try {
    s = await session();
  } catch (_) {
    for (const i of items) await update(i, backoff(i));
    return changed();
  }
  // Signed out: pause until the owner signs in again (a page shows "sign in to send").
  // Another account signed in meanwhile: these items wait for their owner.
  // Signed out meanwhile on this phone (another tab): the key is gone, so stop too.
  const key = s && await keyOf(owner);
  await setMeta('paused', !s);
  if (!s || s.user !== owner || !key || await getMeta('owner') !== owner) {
    for (const i of items) await update(i, backoff(i));
    return changed();
  }
  // A CSRF token refused (aged): renew it and try once more.
  const attempt = async (f, x) => {
    // One that cannot even be read or posted (a broken copy) waits like a failed one.
    let out = await f(x, s, key).catch(() => 'error');
    if (out === 'renew') {
      s = await session().catch(() => null);
      out = s && s.user === owner ? await f(x, s, key).catch(() => 'error') : 'paused';
    }
    return out;
  };
  let out;
  for (let n = 0; n < items.length; n++) {
    // Read it again: meanwhile it may have been sent by the page, or replaced by a new submit.
    const item = await tx(['items'], false, st => req(st.get(items[n].uuid)));
    if (!item || !due(item)) continue;
    out = await attempt(send, item);
    if (out === 'error' || out === 'renew') await update(item, backoff(item));
    if (out === 'down') for (const i of items.slice(n)) await update(i, backoff(i));
    if (out === 'paused' || out === 'down') break;
  }
  // Then the drafts, each read again (a submit queued meanwhile has deleted its draft; one
  // saved again is sent as it is now).
  for (let d of drafts) {
    if (out === 'paused' || out === 'down') break;
    d = await tx(['drafts'], false, st => req(st.get(d.uuid)));
    if (d && !d.message) out = await attempt(sendDraft, d);
  }
  if (out === 'paused') await setMeta('paused', true);
  changed();
}

// The owner's drafts still to be saved on the server (not refused by it).
const pending = async owner => (await mine(owner, 'drafts')).filter(d => !d.message);

// -- Pages kept for offline use (Cache Storage, one cache per owner) ------------------------

// Keep `res` (the HTML of `href`) in its owner's cache if it is a signed-in user's page that
// may be kept and that user is the phone's current owner; a keepable page that now
// redirects or fails (submitted, signed out) loses its kept copy.
async function keep(href, res) {
  if (!keepable(new URL(href).pathname)) return;
  const html = (res.headers.get('Content-Type') || '').startsWith('text/html');
  const owner = res.ok && !res.redirected && html && ownerOf(await res.clone().text());
  // Only the phone's current owner's pages (a page that arrives after a sign-out is dropped).
  if (owner) {
    if (owner === await getMeta('owner')) await (await caches.open(USER_CACHE + owner)).put(href, res);
    return;
  }
  for (const k of await caches.keys()) {
    if (k.startsWith(USER_CACHE)) await (await caches.open(k)).delete(href);
  }
}

const kept = (owner, url) => caches.match(url, {cacheName: USER_CACHE + owner, ignoreVary: true});

// Remove one owner's key and cached pages (sign-out, or another account signing in):
// their items stay, unreadable until that owner signs in again.
async function forget(owner) {
  await tx(['keys'], true, s => req(s.delete(owner)));
  await caches.delete(USER_CACHE + owner);
}

return {LOCK, USER_CACHE, MAX_WAIT, busy, backoff, isDue, byAge, keepable, ownerOf, keyBytes,
  verdict, pageVerdict, seal, unseal, importKey, getMeta, setMeta, mine, keyOf, session, put,
  putDraft, dropDraft, update, answered, changed, listen, flush, pending, keep, kept, forget};
})();

if (typeof module === 'object' && module.exports) module.exports = Outbox;
