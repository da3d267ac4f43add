// Unit tests of the outbox module's pure functions (static/js/outbox.js), with Node's own
// test runner: `node --test tests/js/` (scripts/test runs it). The IndexedDB, cache and
// network parts are exercised in Chromium by tests/browser/test_offline_*.py.

'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const Outbox = require('../../static/js/outbox.js');

const item = (over = {}) => Object.assign({uuid: 'b', owner: 'o', url: '/entry/1/F/2026',
  created: 1000, attempts: 0, next_at: 0, state: 'queued', message: ''}, over);

test('backoff doubles from 1 s and stops at the 60 s cap', () => {
  const waits = [];
  let it = item();
  for (let n = 0; n < 9; n++) {
    const next = Outbox.backoff(it, 5000);
    waits.push(next.next_at - 5000);
    assert.equal(next.attempts, it.attempts + 1);
    it = Object.assign(it, next);
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  assert.equal(Outbox.MAX_WAIT, 60000);
});

test('backoff leaves the item itself alone and counts from now by default', () => {
  const it = item({attempts: 2});
  const before = Date.now();
  const next = Outbox.backoff(it);
  assert.equal(it.attempts, 2);
  assert.ok(next.next_at >= before + 4000 && next.next_at <= Date.now() + 4000);
});

test('an item is due when queued, its wait is over, and the page is not sending it', () => {
  assert.equal(Outbox.isDue(item({next_at: 100}), 100, false), true);
  assert.equal(Outbox.isDue(item({next_at: 101}), 100, false), false);
  assert.equal(Outbox.isDue(item({next_at: 101}), 100, true), true, 'forced: "Send now"');
  assert.equal(Outbox.isDue(item({state: 'attention'}), 100, true), false,
    'a refused item is never sent again by itself');
  Outbox.busy.add('b');
  try {
    assert.equal(Outbox.isDue(item(), 100, true), false, 'the page is sending it');
  } finally {
    Outbox.busy.delete('b');
  }
});

test('the queue is sent oldest first, ties broken by UUID', () => {
  const queue = [item({uuid: 'c', created: 3}), item({uuid: 'b', created: 1}),
    item({uuid: 'a', created: 3}), item({uuid: 'd', created: 2})];
  assert.deepEqual(queue.sort(Outbox.byAge).map(i => i.uuid), ['b', 'd', 'a', 'c']);
  assert.equal(Outbox.byAge(item(), item()), 0);
});

test('only entry pages and the outbox list are kept for offline use, never receipts', () => {
  for (const path of ['/entry/', '/entry/12/LC-X/2026', '/outbox']) {
    assert.equal(Outbox.keepable(path), true, path);
  }
  for (const path of ['/entry/receipt/0b6f', '/', '/review/', '/outbox/x', '/offline',
    '/entryway']) {
    assert.equal(Outbox.keepable(path), false, path);
  }
});

test('the owner id is read from a signed-in page only', () => {
  const page = '<head><meta name="dantoc-user" content="0a1b2c3d4e5f60718293a4b5"></head>';
  assert.equal(Outbox.ownerOf(page), '0a1b2c3d4e5f60718293a4b5');
  assert.equal(Outbox.ownerOf('<head><meta name="viewport" content="x"></head>'), null);
  assert.equal(Outbox.ownerOf('<meta name="dantoc-user" content="">'), null);
});

test('an outbox key is exactly 32 bytes of base64, anything else is refused', () => {
  const raw = Uint8Array.from({length: 32}, (_, n) => n * 7 % 256);
  const b64 = Buffer.from(raw).toString('base64');
  assert.deepEqual(Outbox.keyBytes(b64), raw);
  assert.throws(() => Outbox.keyBytes(Buffer.alloc(16).toString('base64')), /16 bytes/);
  assert.throws(() => Outbox.keyBytes('not base64!'));
  assert.throws(() => Outbox.keyBytes(''), /0 bytes/);
});

test('sealed with the owner key, readable only with it; without a key kept readable', async () => {
  const b64 = Buffer.alloc(32, 9).toString('base64');
  const key = await Outbox.importKey(b64);
  const data = {fields: [['v1', '126'], ['action', 'submit']], label: 'Phiếu thôn'};
  const box = await Outbox.seal(key, data);
  assert.equal(box.plain, undefined);
  assert.equal(box.iv.length, 12);
  assert.ok(!Buffer.from(box.data).toString().includes('126'), 'no clear text');
  assert.deepEqual(await Outbox.unseal(key, box), data);
  const other = await Outbox.importKey(Buffer.alloc(32, 1).toString('base64'));
  await assert.rejects(Outbox.unseal(other, box));
  const again = await Outbox.seal(key, data);
  assert.notDeepEqual(again.iv, box.iv, 'a fresh IV each time');
  assert.deepEqual(await Outbox.seal(null, data), {plain: data});
  assert.deepEqual(await Outbox.unseal(null, {plain: data}), data);
});

test('outbox send: only a 2xx echoing the UUID acknowledges an item', () => {
  const v = (status, body = {}, redirected = false) => Outbox.verdict({status, redirected, body}, 'u1');
  assert.equal(v(201, {uuid: 'u1'}), 'ok');
  assert.equal(v(200, {uuid: 'u1'}), 'ok', 'an idempotent replay');
  assert.equal(v(200, {uuid: 'u2'}), 'retry', 'not this item');
  assert.equal(v(200, {}), 'retry', 'no JSON (a login page, a proxy)');
  assert.equal(v(503), 'retry');
  assert.equal(v(500), 'retry');
  assert.equal(v(409, {error: {code: 'in_flight'}}), 'retry');
  assert.equal(v(400, {error: {code: 'csrf'}}), 'renew');
  assert.equal(v(401), 'paused');
  assert.equal(v(0, {}, true), 'paused', 'redirected to the sign-in page');
  for (const [status, code] of [[409, 'locked'], [409, 'stale_version'], [422, 'invalid'],
    [422, 'uuid_conflict'], [403, undefined], [404, undefined], [400, 'other']]) {
    assert.equal(v(status, {error: {code}}), 'attention', `${status} ${code}`);
  }
});

test('outbox send of a draft: any 2xx saves it, the rest as for items', () => {
  const v = (status, body = {}) => Outbox.verdict({status, redirected: false, body});
  assert.equal(v(200), 'ok', 'the status fragment, not JSON');
  assert.equal(v(502), 'retry');
  assert.equal(v(409, {error: {code: 'in_flight'}}), 'retry');
  assert.equal(v(409, {error: {code: 'locked'}}), 'attention');
});

test('the page send is acknowledged by the receipt (or review page) of its UUID only', () => {
  const it = item({uuid: 'u1', url: '/entry/1/F/2026'});
  const origin = 'http://127.0.0.1:5000';
  const v = answer => Outbox.pageVerdict(it, answer);
  // The receipt fragment: the POST's own URL, the receipt's address in HX-Push-Url.
  assert.equal(v({status: 200, pushUrl: '/entry/receipt/u1', responseURL: origin + it.url}), 'acked');
  // Without JavaScript's help: the 303 followed to the receipt.
  assert.equal(v({status: 200, pushUrl: null, responseURL: origin + '/entry/receipt/u1'}), 'acked');
  // Entered on a village's behalf: the 303 followed to the review page of its UUID.
  assert.equal(v({status: 200, pushUrl: null, responseURL: origin + '/review/u1'}), 'acked');
  assert.equal(v({status: 200, pushUrl: null, responseURL: origin + '/review/u2'}), 'kept',
    'the review page of another report is not this item\'s acknowledgement');
  assert.equal(v({status: 200, pushUrl: '/entry/receipt/u2', responseURL: origin + it.url}),
    'invalid', 'another receipt is not this item\'s: the form came back');
  assert.equal(v({status: 200, pushUrl: null, responseURL: origin + it.url}), 'invalid');
  assert.equal(v({status: 0, pushUrl: null, responseURL: ''}), 'failed');
  assert.equal(v({status: 502, pushUrl: null, responseURL: origin + it.url}), 'failed');
  assert.equal(v({status: 409, pushUrl: null, responseURL: origin + it.url}), 'kept');
  assert.equal(v({status: 200, pushUrl: null, responseURL: origin + '/accounts/login'}), 'kept');
});
