// The page side of the offline app (docs/offline.md), on top of the `Outbox` module: keep a
// submit in the outbox before it is sent and record the server's answer, keep a draft the
// server could not take and put it back in its form, show where the person is looking that a
// report waits on this phone, show the unsent count and the sign-out warning, ask for
// persistent storage, keep a copy of the page for offline use, register the service worker.
// Every word shown comes from the server in the user's language (data- attributes and
// elements the templates render); nothing here is UI text.

const {LOCK, USER_CACHE, MAX_WAIT, busy, backoff, keepable, unseal, getMeta, setMeta, mine, keyOf,
  session, put, putDraft, dropDraft, answered, listen, flush, pending, keep, kept, forget} = Outbox;
const $ = id => document.getElementById(id);
// A form's target path (not form.action: the entry form has buttons named "action").
const path = form => new URL(form.getAttribute('action') || '', location.href).pathname;
// The script tag names the worker, unless the kill switch is on (then: none).
const SW = document.currentScript && document.currentScript.dataset.sw;
const worker = () => SW && navigator.serviceWorker && navigator.serviceWorker.controller;
// The signed-in user's owner id ('' on the offline page, absent when signed out).
const user = () => { const b = $('outbox'); return b ? b.dataset.user : undefined; };
// A text the server rendered for this script (templates/pwa/_outbox.html).
const say = name => $('outbox').dataset[name];
// The entry form's fields as typed, with the pressed button's action.
const fieldsOf = (form, action) => [...new FormData(form)]
  .filter(([k, v]) => typeof v === 'string' && k !== 'action').concat([['action', action]]);
const entryForm = () => document.querySelector('form.entry');
// The page as the server sent it, for a copy kept for offline use when the worker did not
// see it load (the first visit; a page a sign-in led to): the parsed document, read before
// any script changed it, or after an htmx page swap the response itself. Never fetched again.
let served = user() && keepable(location.pathname) &&
  [location.href.split('#')[0], '<!doctype html>\n' + document.documentElement.outerHTML];
// Whose items this page shows: the signed-in user, or on the offline page the phone's
// last signed-in user (cleared at sign-out).
let owner = null, timer = 0, sending = null, draftWait = 500;

async function start() {
  const u = user();
  owner = null;
  if (worker()) manifest();
  if (u === undefined) return;
  const last = await getMeta('owner');
  if (u) {
    // Another account signed in without signing out: lock the previous owner's items.
    if (last && last !== u) await forget(last);
    await setMeta('owner', u);
    await keepServed(u);
    // What a first visit leaves out comes once the person starts using the page; on a page
    // the worker serves (not a first visit), at once.
    if (worker()) await prepare(u);
    else for (const t of ['input', 'click']) document.addEventListener(t, () => prepare(u), {once: true});
    // Asked of those who report (the page has the warning), once per phone.
    if ($('storage-warning') && await getMeta('persist') === undefined && navigator.storage &&
        navigator.storage.persist) {
      await setMeta('persist', await navigator.storage.persist());
    }
  }
  owner = u || last;
  if (u) await restore(u).catch(() => {});
  await show(true);
  if (u && (await mine(u)).some(i => i.state === 'queued')) syncLater();
  flush(true);
}

// A first visit downloads the page, the bundle and the worker, nothing more (budgets.md
// §6.2). The rest is fetched once per phone, when the person starts using the page (or on
// the next page): the outbox key (before anything is typed that may have to be kept), the
// offline page and the outbox list for the worker to keep, the manifest (installing).
let prepared = null;
async function prepare(u) {
  if (prepared === u) return;
  prepared = u;
  if (!(await keyOf(u))) await session().catch(() => {});
  if (!SW || !navigator.serviceWorker) return;
  const warm = w => w && w.postMessage({type: 'warm', entry: keepable(location.pathname)});
  navigator.serviceWorker.ready.then(r => warm(r.active));
  // A new version taking over this page starts with an empty static cache: warm it too.
  navigator.serviceWorker.addEventListener('controllerchange', () => warm(navigator.serviceWorker.controller));
  manifest();
}
function manifest() {
  if (SW && !document.querySelector('link[rel=manifest]')) {
    document.head.append(Object.assign(document.createElement('link'), {rel: 'manifest', href: '/manifest.webmanifest'}));
  }
}

async function keepServed(u) {
  const page = served;
  served = null;
  // Only for a worker to serve offline (none while the kill switch is on).
  if (!page || !SW || !self.caches || await kept(u, page[0])) return;
  await keep(page[0], new Response(page[1], {headers: {'Content-Type': 'text/html; charset=utf-8'}}))
    .catch(() => {});
}

// The owner's drafts kept on this phone for this entry form (whatever the UUID its page
// carries: a form never saved on the server gets a new one each time it is loaded).
const draftsOf = async (u, form) => (await mine(u, 'drafts')).filter(d => d.url === path(form));

// An entry form whose draft is kept on this phone (the server could not take it): put the
// typed values back (only into the fields the page has: grid rows added since it was kept
// cannot be added offline) and say so. The outbox then saves it on the server. A page with
// another new UUID takes the draft's, so that saving or submitting here continues it; not
// when the server refused that draft (then only the values are put back).
async function restore(u) {
  const form = entryForm(), ds = form ? await draftsOf(u, form) : [];
  const uuid = form && form.elements.uuid.value, d = ds.find(x => x.uuid === uuid) || ds[0];
  if (!d) return;
  const {fields} = await unseal(await keyOf(u), d.body), typed = new Map(fields);
  const skip = d.message ? /^(csrf_token|action|uuid|base_version)$/ : /^(csrf_token|action)$/;
  for (const el of form.elements) {
    if (!el.name || skip.test(el.name)) continue;
    if (/radio|checkbox/.test(el.type)) el.checked = fields.some(([k, v]) => k === el.name && v === el.value);
    else if (typed.has(el.name)) el.value = typed.get(el.name);
  }
  $('status').textContent = say('restored');
}

// Bring the count, the buttons, the "waiting" panel, the storage note and the /outbox list
// up to date, and set the timer for the next retry. `loaded`: a page (or page swap) has
// just loaded.
async function show(loaded) {
  const box = $('outbox');
  if (!box || !owner) return;
  const items = await mine(owner), n = items.length, c = $('outbox-count');
  c.textContent = c.dataset.count = n;
  c.hidden = $('outbox-link').hidden = $('outbox-send').hidden = !n;
  // "Saved on this phone" says no more once the server has the report (its receipt shows).
  const note = $('outbox-notice');
  if (note.dataset.uuid && !items.some(i => i.uuid === note.dataset.uuid)) note.textContent = '';
  $('outbox-paused').hidden = !(n && await getMeta('paused'));
  await waiting(items);
  // The storage note: once per phone, on the first page after the browser refused to keep
  // its data for sure.
  const told = $('storage-warning');
  if (told && loaded && told.hidden && await getMeta('persist') === false && !(await getMeta('told'))) {
    told.hidden = false;
    await setMeta('told', true);
  }
  const list = $('outbox-list');
  if (list) await showList(list, items);
  const waits = items.filter(i => i.state === 'queued').map(i => i.next_at - Date.now());
  // Drafts keep no retry time: while some wait, this page tries again 1 s, 2 s, 4 s … at
  // most 60 s apart (each try, failed or not, shows the outbox again).
  if ((await pending(owner)).length) waits.push(draftWait = Math.min(MAX_WAIT, draftWait * 2));
  else draftWait = 500;
  clearTimeout(timer);
  // Signed out: nothing to try until a sign-in (which loads a page, which sends).
  if (waits.length && !(await getMeta('paused'))) {
    timer = setTimeout(flush, Math.max(0, Math.min(...waits)) + 50);
  }
}

// An entry form with a report for it waiting on this phone (submitted offline, or its send
// failed): the form gives way to the "saved on this phone, sent automatically" panel, where
// the person is looking, so that nobody types the report twice; it comes back if the report
// leaves the queue (sent: then the receipt shows; or refused: the form is corrected here).
async function waiting(items) {
  const form = entryForm(), panel = $('waiting');
  if (!form || !panel) return;
  const wait = items.some(i => i.state === 'queued' && i.url === path(form) && !busy.has(i.uuid));
  if (wait === !panel.hidden) return;
  panel.hidden = !wait;
  form.hidden = wait;
  if (wait) {
    panel.scrollIntoView({block: 'start'});
    panel.focus({preventScroll: true});
  }
}

// Background Sync (Chromium): the worker sends even if every tab is closed. Asked when a
// page with queued items loads and when a send fails, never from a retry loop (a sync fires
// at once when online), and not while the page sends the item itself (the two would race).
function syncLater() {
  if (SW && navigator.serviceWorker) {
    navigator.serviceWorker.ready.then(r => r.sync && r.sync.register(LOCK)).catch(() => {});
  }
}

// The /outbox page: <li data-queued=uuid> and <li data-attention=uuid>message</li>, with
// the form's name and, for items needing attention, a link back to the form.
async function showList(list, items) {
  const key = await keyOf(owner), t = list.dataset;
  list.replaceChildren(...await Promise.all(items.map(async i => {
    const li = document.createElement('li'), small = document.createElement('small');
    const label = key || i.body.plain ? (await unseal(key, i.body).catch(() => ({}))).label : '';
    li.dataset[i.state === 'queued' ? 'queued' : 'attention'] = i.uuid;
    li.append(i.state === 'queued' ? t.queued : i.message || t.unknown, document.createElement('br'), small);
    small.textContent = label || t.locked;
    if (i.state !== 'queued') {
      const a = document.createElement('a');
      a.href = i.url;
      a.textContent = t.open;
      li.append(' ', a);
    }
    return li;
  })));
  $('outbox-empty').hidden = items.length > 0;
}

// Submitting the entry form: keep the submission on this phone first, say so, then let htmx
// send it as usual (one round trip: the receipt or the form with its errors comes back).
document.addEventListener('htmx:confirm', e => {
  const form = e.detail.elt, ev = e.detail.triggeringEvent, u = user();
  if (!u || !form.matches('form.entry') || !ev || ev.type !== 'submit' ||
      !ev.submitter || ev.submitter.value !== 'submit') return;
  e.preventDefault();
  const uuid = form.elements.uuid.value;
  put(u, uuid, path(form), fieldsOf(form, 'submit'), document.title).then(item => {
    const n = $('outbox-notice');
    n.dataset.uuid = uuid;
    n.textContent = n.dataset.text;
    // Offline: nothing to try now; the panel says it waits, the outbox sends it later.
    if (!navigator.onLine) {
      syncLater();
      return show();
    }
    sending = item;
    busy.add(uuid);
    show();
    e.detail.issueRequest(true);
  }, () => e.detail.issueRequest(true));
});

// The page's own send carries the item's UUID as its idempotency key: that header, not the
// element, tells its answer apart below.
document.addEventListener('htmx:configRequest', e => {
  if (sending && e.detail.elt.matches('form.entry') && e.detail.formData.get('uuid') === sending.uuid) {
    e.detail.formData.set('action', 'submit');
    e.detail.headers['Idempotency-Key'] = sending.uuid;
  }
});

// The answer to the page's own send, whatever element htmx fires the event on (the form
// when it is still there; when the answer replaced it, the nearest ancestor left, with that
// ancestor as `elt`): the receipt (acknowledged: the item leaves), the form shown again with
// its errors (needs attention; the server saved the draft), or anything else (kept; the
// outbox retries, and files a refusal with the server's message).
document.addEventListener('htmx:afterRequest', e => {
  const item = sending, cfg = e.detail.requestConfig, x = e.detail.xhr;
  if (!item || !cfg || cfg.headers['Idempotency-Key'] !== item.uuid) return;
  sending = null;
  answered(item, {status: x.status, pushUrl: x.getResponseHeader('HX-Push-Url'),
    responseURL: x.responseURL, invalid: say('invalid')})
    .then(v => { if (v === 'failed') syncLater(); }, () => busy.delete(item.uuid))
    .then(() => show()).then(() => flush(false, true));
});

// "Save draft" (its buttons post the entry form into #status): when the server cannot be
// reached (offline, no answer, 5xx), keep the draft on this phone and say so; the outbox
// saves it later. Once the server saved a draft of this form, a copy kept here is out of
// date: it goes.
const draftForm = e => user() && e.detail.elt.matches('form.entry [value=draft]') && e.detail.elt.form;
document.addEventListener('htmx:beforeSwap', e => {
  if (draftForm(e) && e.detail.xhr.status >= 500) e.detail.shouldSwap = false;
  // A whole page arriving by htmx (a boosted link, the page a sign-in leads to): its HTML,
  // for a copy kept for offline use (see `served`).
  const x = e.detail.xhr;
  if (e.detail.boosted && x.status === 200 && (e.detail.requestConfig || {}).verb === 'get' &&
      keepable(new URL(x.responseURL).pathname)) served = [x.responseURL, x.responseText];
});
document.addEventListener('htmx:afterRequest', e => {
  const form = draftForm(e), status = e.detail.xhr.status, u = user();
  if (!form) return;
  if (status >= 200 && status < 300) {
    draftsOf(u, form).then(ds => Promise.all(ds.map(d => dropDraft(d.uuid, u, 'saved')))).catch(() => {});
  } else if (!status || status >= 500) {
    putDraft(u, form.elements.uuid.value, path(form), fieldsOf(form, 'draft')).then(() => {
      $('status').textContent = say('draft');
      syncLater();
    }, () => {});
  }
});

// An htmx swap of the whole page (a boosted link, or signing in) is a page load too: the
// header is new, and the user may be another one.
document.addEventListener('htmx:afterSettle', e => {
  if (e.detail.target === document.body) start().catch(() => {});
});

// Another tab or the worker changed the outbox. When the item of the form on screen was
// acknowledged, show its receipt.
listen(m => {
  const form = entryForm();
  if (m.type === 'acked' && m.receipt && form && m.url === path(form) &&
      !(sending && sending.uuid === m.uuid)) {
    location.assign(m.receipt);
  }
  show();
});

document.addEventListener('click', e => {
  if (e.target.id === 'outbox-send') flush(true, true);
  if (e.target.closest('#storage-warning button')) $('storage-warning').hidden = true;
});
addEventListener('online', () => flush(true));

// Signing out (the nav form and the account page post to /accounts/logout): warn when
// items are unsent, then remove this user's key, cached pages and web storage. The items
// stay, encrypted, and are sent when the same user signs in again.
document.addEventListener('submit', e => {
  const form = e.target;
  if (path(form) !== '/accounts/logout') return;
  e.preventDefault();
  e.stopPropagation();
  signOut(form);
}, true);

async function signOut(form) {
  try {
    const u = user(), n = (await mine(u)).length + (await mine(u, 'drafts')).length;
    const d = $('signout-warning');
    if (n && d && d.showModal) {
      d.returnValue = '';
      d.querySelector('[data-n]').textContent = n;
      d.showModal();
      await new Promise(ok => d.addEventListener('close', ok, {once: true}));
      if (d.returnValue !== 'go') return;
    }
    // No current owner first: a flush still running can then store no key and no page.
    const last = await getMeta('owner');
    await setMeta('owner');
    await setMeta('paused');
    for (const o of new Set([u, last])) if (o) await forget(o);
    for (const k of await caches.keys()) if (k.startsWith(USER_CACHE)) await caches.delete(k);
    localStorage.clear();
    sessionStorage.clear();
    const c = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (c) c.postMessage({type: 'signout'});
  } catch (_) {
    // Never keep someone signed in because a cleanup step failed.
  }
  form.submit();
}

if (SW && navigator.serviceWorker) {
  addEventListener('load', () => navigator.serviceWorker.register(SW).catch(() => {}));
}

// For tests and support: the current owner's items, and "send now".
self.dantocOutbox = {
  list: async () => (await mine(owner || user())).map(i => ({uuid: i.uuid, state: i.state, message: i.message})),
  flush: () => flush(true, true).then(show),
};

if (self.indexedDB && self.crypto && crypto.subtle) start().catch(() => {});
