// The page side of the offline app (docs/offline.md): keep a submit in the outbox before
// it is sent, keep a draft the server could not take and put it back in its form, show the
// unsent count, the "saved on this phone" notice and the sign-out warning, ask for
// persistent storage, register the service worker.
// Every word shown comes from the server in the user's language (templates/base.html:
// data- attributes and elements already filled in); nothing here is UI text.

const $ = id => document.getElementById(id);
// A form's target path (not form.action: the entry form has buttons named "action").
const path = form => new URL(form.getAttribute('action') || '', location.href).pathname;
// The script tag names the worker, unless the kill switch is on (then: none).
const SW = document.currentScript && document.currentScript.dataset.sw;
// The signed-in user's owner id ('' on the offline page, absent when signed out).
const user = () => { const b = $('outbox'); return b ? b.dataset.user : undefined; };
// A text the server rendered for this script (templates/pwa/_outbox.html).
const say = name => $('outbox').dataset[name];
// The entry form's fields as typed, with the pressed button's action.
const fieldsOf = (form, action) => [...new FormData(form)]
  .filter(([k, v]) => typeof v === 'string' && k !== 'action').concat([['action', action]]);
// Whose items this page shows: the signed-in user, or on the offline page the phone's
// last signed-in user (cleared at sign-out).
let owner = null, timer = 0, sending = null, draftWait = 500;

async function start() {
  const u = user();
  owner = null;
  if (u === undefined) return;
  const last = await getMeta('owner');
  if (u) {
    // Another account signed in without signing out: lock the previous owner's items.
    if (last && last !== u) await forget(last);
    await setMeta('owner', u);
    if (!(await keyOf(u))) await session().catch(() => {});
    // Asked of those who report (the page shows them the warning), once per phone.
    if ($('storage-warning') && await getMeta('persist') === undefined && navigator.storage &&
        navigator.storage.persist) {
      await setMeta('persist', await navigator.storage.persist());
    }
  }
  owner = u || last;
  if (u) await restore(u).catch(() => {});
  await show();
  if (u && (await mine(u)).some(i => i.state === 'queued')) syncLater();
  flush(true);
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
  const form = document.querySelector('form.entry'), ds = form ? await draftsOf(u, form) : [];
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

// Bring the count, the buttons, the warnings and the /outbox list up to date, and set the
// timer for the next retry.
async function show() {
  const box = $('outbox');
  if (!box || !owner) return;
  const items = await mine(owner), n = items.length, c = $('outbox-count');
  c.textContent = c.dataset.count = n;
  c.hidden = $('outbox-link').hidden = $('outbox-send').hidden = !n;
  $('outbox-paused').hidden = !(n && await getMeta('paused'));
  const warning = $('storage-warning');
  if (warning) warning.hidden = await getMeta('persist') !== false;
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
    show();
    // Offline: nothing to try now; the outbox sends it when the network is back.
    if (!navigator.onLine) return syncLater();
    sending = item;
    busy.add(uuid);
    e.detail.issueRequest(true);
  }, () => e.detail.issueRequest(true));
});

document.addEventListener('htmx:configRequest', e => {
  if (sending && e.detail.elt.matches('form.entry') && e.detail.formData.get('uuid') === sending.uuid) {
    e.detail.formData.set('action', 'submit');
    e.detail.headers['Idempotency-Key'] = sending.uuid;
  }
});

// The answer to the page's own send: the receipt (acknowledged: the item leaves), the form
// shown again with its errors (needs attention; the server saved the draft), or anything
// else (kept; the outbox retries, and files a refusal with the server's message).
document.addEventListener('htmx:afterRequest', e => {
  const item = sending, x = e.detail.xhr;
  if (!item || !e.detail.elt.matches('form.entry')) return;
  sending = null;
  busy.delete(item.uuid);
  const to = (x.getResponseHeader('HX-Push-Url') || '') + ' ' + (x.responseURL || '');
  let done;
  if (x.status >= 200 && x.status < 300 && to.includes('/receipt/' + item.uuid)) {
    done = update(item, null, 'acknowledged');
  } else if (x.status === 200 && new URL(x.responseURL).pathname === item.url) {
    done = update(item, {state: 'attention', message: say('invalid')});
  } else {
    const failed = !x.status || x.status >= 500;
    done = update(item, failed ? backoff(item) : {});
    if (failed) syncLater();
  }
  done.then(show).then(() => flush(false, true));
});

// "Save draft" (its buttons post the entry form into #status): when the server cannot be
// reached (offline, no answer, 5xx), keep the draft on this phone and say so; the outbox
// saves it later. Once the server saved a draft of this form, a copy kept here is out of
// date: it goes.
const draftForm = e => user() && e.detail.elt.matches('form.entry [value=draft]') && e.detail.elt.form;
document.addEventListener('htmx:beforeSwap', e => {
  if (draftForm(e) && e.detail.xhr.status >= 500) e.detail.shouldSwap = false;
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
  if (e.detail.target !== document.body) return;
  start().then(keep).catch(() => {});
});

// Another tab or the worker changed the outbox. When the item of the form on screen was
// acknowledged, show its receipt.
onChange = m => {
  const form = document.querySelector('form.entry');
  if (m.type === 'acked' && m.receipt && form && form.elements.uuid.value === m.uuid &&
      !(sending && sending.uuid === m.uuid)) {
    location.assign(m.receipt);
  }
  show();
};
if (channel) channel.onmessage = e => onChange(e.data);

document.addEventListener('click', e => {
  if (e.target.id === 'outbox-send') flush(true, true);
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

// An entry page with no copy kept for offline use (the worker did not see it load: the
// first visit, or the page a sign-in led to): ask the worker to keep one.
async function keep() {
  const sw = navigator.serviceWorker, u = user(), url = location.pathname;
  if (!SW || !sw || !u || !keepable(url) ||
      await caches.match(url, {cacheName: USER_CACHE + u, ignoreVary: true})) return;
  (await sw.ready).active.postMessage({type: 'keep', url});
}

if (SW && navigator.serviceWorker) {
  addEventListener('load', () => navigator.serviceWorker.register(SW).catch(() => {}));
}

// For tests and support: the current owner's items, and "send now".
self.dantocOutbox = {
  list: async () => (await mine(owner || user())).map(i => ({uuid: i.uuid, state: i.state, message: i.message})),
  flush: () => flush(true, true).then(show),
};

if (self.indexedDB && self.crypto && crypto.subtle) start().then(keep).catch(() => {});
