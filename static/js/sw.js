// The service worker (served at /sw.js after static/js/outbox.js, see docs/offline.md):
// precaches the public static files and the offline page, keeps the signed-in user's entry
// pages for opening offline, and sends the outbox when it starts, on Background Sync and
// when asked. The server fills in VERSION and PRECACHE.

const VERSION = '__VERSION__';
const STATIC = 'dantoc-static-' + VERSION;
const PRECACHE = __PRECACHE__;
const OFFLINE = '/offline';
// The owner id a page carries (templates/base.html); only signed-in pages have it.
const OWNER = /<meta name="dantoc-user" content="(\w+)">/;

self.addEventListener('install', e => {
  e.waitUntil(caches.open(STATIC).then(c => c.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

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
  if (m.type === 'keep') e.waitUntil(keepCopy(m.url).catch(() => {}));
  if (m.type === 'signout') e.waitUntil(signedOut());
});

self.addEventListener('fetch', e => {
  const r = e.request, url = new URL(r.url);
  if (r.method !== 'GET' || url.origin !== location.origin) return;
  // The static files, whatever their ?v=: a page kept under an older version gets the
  // current bundle (the old one is gone with its cache, and pages work with any version).
  if (PRECACHE.some(p => p.split('?')[0] === url.pathname)) {
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
    if (keepable(url.pathname)) e.waitUntil(store(r.url, res.clone()).catch(() => {}));
    return res;
  } catch (err) {
    const owner = await getMeta('owner').catch(() => null);
    const copy = owner && keepable(url.pathname) &&
      await caches.match(r.url, {cacheName: USER_CACHE + owner, ignoreVary: true});
    return copy || await caches.match(OFFLINE, {cacheName: STATIC}) || Response.error();
  }
}

// Keep a page in its owner's cache, if it is a signed-in user's entry page as it is now;
// a page that now redirects or fails (submitted, signed out) loses its kept copy.
async function store(href, res) {
  if (!keepable(new URL(href).pathname)) return;
  const html = (res.headers.get('Content-Type') || '').startsWith('text/html');
  const owner = res.ok && !res.redirected && res.type === 'basic' && html &&
    (OWNER.exec(await res.clone().text()) || [])[1];
  // Only the phone's current owner's pages (a page that arrives after a sign-out is dropped).
  if (owner) {
    if (owner === await getMeta('owner')) await (await caches.open(USER_CACHE + owner)).put(href, res);
    return;
  }
  for (const k of await caches.keys()) {
    if (k.startsWith(USER_CACHE)) await (await caches.open(k)).delete(href);
  }
}

// A page asks for a copy of itself (it loaded before this worker could see it).
async function keepCopy(url) {
  const owner = await getMeta('owner');
  if (!owner || !keepable(url) ||
      await caches.match(url, {cacheName: USER_CACHE + owner, ignoreVary: true})) return;
  await store(new URL(url, location.href).href, await fetch(url));
}

async function signedOut() {
  for (const k of await caches.keys()) if (k.startsWith(USER_CACHE)) await caches.delete(k);
}
