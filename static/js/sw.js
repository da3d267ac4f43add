// The service worker (served at /sw.js, see docs/offline.md). The outbox is not pasted in:
// the worker imports the page bundle (/app.js, from the HTTP cache: the page has just
// loaded it), whose `Outbox` module is the same code the pages run; htmx and the page code
// in it only run in a document. The server fills in VERSION and BUNDLE.
//
// A first visit costs the page, the bundle and this script, nothing more (budgets.md §6.2):
// installing takes the bundle from the HTTP cache; the offline page and the owner's outbox
// list are fetched when a page this worker serves asks for them ("warm"), and the page
// keeps its own copy for offline use.

importScripts(BUNDLE);
const {LOCK, USER_CACHE, getMeta, mine, flush, pending, keepable, keep, kept} = Outbox;
const STATIC = 'dantoc-static-' + VERSION;
const OFFLINE = '/offline';
// Public files served from the static cache, whatever their ?v=: a page kept under an older
// version gets the current bundle (the old one is gone with its cache).
const STATIC_PATHS = [BUNDLE.split('?')[0], OFFLINE];

self.addEventListener('install', e => {
  e.waitUntil((async () => {
    const c = await caches.open(STATIC);
    await c.add(new Request(BUNDLE, {cache: 'force-cache'}));
    await carryOffline(c);
  })().then(() => self.skipWaiting()));
});

// A new version may arrive while the phone is offline (it installs from the HTTP cache): it
// keeps the offline page of the version it replaces, marked as carried, so that a page with
// no kept copy still opens that page instead of a browser error; warm() replaces it online.
async function carryOffline(c) {
  for (const k of await caches.keys()) {
    if (k === STATIC || !k.startsWith('dantoc-static-')) continue;
    const old = await (await caches.open(k)).match(OFFLINE);
    if (!old) continue;
    const headers = new Headers(old.headers);
    headers.set('X-Dantoc-Carried', '1');
    return c.put(OFFLINE, new Response(await old.blob(), {status: old.status, headers}));
  }
}

// Old static caches go; the user caches and the outbox (IndexedDB) stay.
self.addEventListener('activate', e => {
  e.waitUntil((async () => {
    for (const k of await caches.keys()) {
      if (k.startsWith('dantoc-static-') && k !== STATIC) await caches.delete(k);
    }
    await self.clients.claim();
  })());
  // Not part of activation: a hanging network must not hold page loads back.
  flush(true);
});

// Background Sync (Chromium): send what is due; if items or drafts are still waiting, fail,
// so that the browser tries again later on its own schedule (never a tight loop). It never
// queues behind a send in progress (a page's): an event that waits keeps this worker busy,
// and a busy worker holds back the activation of a new version.
self.addEventListener('sync', e => {
  if (e.tag !== LOCK) return;
  e.waitUntil(flush(false, false).then(async () => {
    const owner = await getMeta('owner');
    if ((await mine(owner)).some(i => i.state === 'queued') || (await pending(owner)).length) {
      throw new Error('queued');
    }
  }));
});

self.addEventListener('message', e => {
  const m = e.data || {};
  if (m.type === 'flush') e.waitUntil(flush(true, true));
  if (m.type === 'warm') e.waitUntil(warm(m.entry).catch(() => {}));
  if (m.type === 'signout') e.waitUntil(signedOut());
});

self.addEventListener('fetch', e => {
  const r = e.request, url = new URL(r.url);
  if (r.method !== 'GET' || url.origin !== location.origin) return;
  if (STATIC_PATHS.includes(url.pathname)) {
    e.respondWith(caches.match(r, {cacheName: STATIC, ignoreVary: true, ignoreSearch: true})
      .then(c => c || fetch(r)));
    return;
  }
  // A whole page: a navigation, or a page htmx loads for a boosted link or a history restore.
  const h = r.headers;
  if (r.mode === 'navigate' || h.get('HX-Boosted') || h.get('HX-History-Restore-Request')) {
    e.respondWith(page(e, r, url));
  }
});

// Network first; offline, the current user's kept copy, else the offline page.
async function page(e, r, url) {
  try {
    const res = await fetch(r);
    if (keepable(url.pathname)) e.waitUntil(keep(r.url, res.clone()).catch(() => {}));
    return res;
  } catch (err) {
    const owner = await getMeta('owner').catch(() => null);
    const copy = owner && keepable(url.pathname) && await kept(owner, r.url);
    return copy || await caches.match(OFFLINE, {cacheName: STATIC}) || Response.error();
  }
}

// What the first visit left out, once a page has loaded: the offline page and, for those
// who report (`entry`: an entry page asked), their outbox list, so that both open offline.
async function warm(entry) {
  const c = await caches.open(STATIC);
  const offline = await c.match(OFFLINE);
  if (!offline || offline.headers.get('X-Dantoc-Carried')) await c.add(OFFLINE);
  const owner = await getMeta('owner'), list = new URL('/outbox', location.href).href;
  if (entry && owner && !(await kept(owner, list))) await keep(list, await fetch(list));
}

async function signedOut() {
  for (const k of await caches.keys()) if (k.startsWith(USER_CACHE)) await caches.delete(k);
}
