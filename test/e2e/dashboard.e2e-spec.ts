import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { WalletStatusStore } from '@splitstream/health';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { query } from '../support/database.js';
import { apiClient } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';

const paid = pubkey(0xd0a1);
const hangs = pubkey(0xd0a2);
const dead = pubkey(0xd0a3);
const poisoned = pubkey(0xd0a4);
const fresh = pubkey(0xd0a5);
const node = (name: string, address: string, split: number) => ({ name, type: 'node', address, split });
const listened = (id: string, satsPerMinute: number, recipients: object[], extra: object = {}) => ({
  id,
  feedGuid: 'dash-feed',
  itemGuid: 'dash-item',
  feedTitle: 'Dashboard Show',
  position: 0,
  seconds: 60,
  satsPerMinute,
  value: { type: 'lightning', method: 'keysend', recipients },
  ...extra,
});

// Debian's chromium (scripts/setup.sh installs it); the flags keep it off this machine's closed network.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// The dashboard polls every 5 s: whatever changes shows within this.
const WITHIN_A_REFRESH = { timeout: 10_000 };
const ZONE = 'Asia/Kolkata'; // GMT+5:30 all year: a zone no test machine runs in by accident

async function signIn(browser: Browser, baseUrl: string, key: string, options: BrowserContextOptions = {}): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await page.goto(`${baseUrl}/dashboard/`);
  await page.fill('#api-key', key);
  await page.click('#sign-in button[type=submit]');
  await page.waitForSelector('#board:not([hidden]) #total-paid');
  return page;
}

// Resolves once the page has refreshed itself after this call.
async function nextRefresh(page: Page) {
  const before = await page.getAttribute('#updated', 'data-at');
  await page.waitForSelector(`#updated:not([data-at="${before}"])`, WITHIN_A_REFRESH);
}

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents();

// The dashboard in a real headless Chromium against the real api: it signs in, shows the API's numbers and keeps
// them fresh, lists every parked recipient, checks an unknown payment in the wallet, overrides it only after a
// confirmation with a reason (and shows the audit entry), unparks after a confirmation, fits a phone's width, and
// shows an app key its own app's data only.
describe('dashboard in headless Chromium (e2e)', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    stack = await startStack({ MAX_ATTEMPTS: '1', ALBY_TIMEOUT_MS: '500', KEYSEND_BATCH_SIZE: '1' });
    await stack.postEvents([
      listened('dash-1', 123, [node('Paid <b>Host</b>', paid, 60), node('Hangs', hangs, 20), node('Dead', dead, 20)], {
        itemTitle: '<img src=x onerror=alert(1)>',
      }),
    ]);
    // An event accepted before ingestion checked it (stored as such): its record cannot be built, so its recipient
    // is parked at its first run (MAX_ATTEMPTS 1) without any payment.
    const poison = listened('dash-poison', 100, [{ ...node('Poisoned', poisoned, 1), fee: false }], { feedGuid: '\u0001'.repeat(200) });
    await query(
      stack.config.DATABASE_URL,
      `INSERT INTO listening_event (app_id, event_id, payload, amount_msat, received_at) VALUES ('test-app', $1, $2, 100750, now() - interval '1 hour')`,
      [poison.id, { ...poison, value: { ...poison.value, timeSplits: [] } }],
    );
    const { WorkerSchedule } = await import('../../apps/worker/src/worker-schedule.service.js');
    await stack.worker!.get(WorkerSchedule).sweep(0);
    await stack.accumulated();
    await stack.sim.setRule(hangs, { hang: true });
    await stack.sim.setRule(dead, { fail: { code: 10, message: 'FAILURE_REASON_NO_ROUTE' } });
    expect((await stack.runPayout()).totals).toMatchObject({ succeeded: 1, unknown: 1, failed: 1 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    page = await (await browser.newContext({ viewport: { width: 1100, height: 1000 } })).newPage();
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('sends every dashboard response, a missing file and the redirect included, with a policy against framing and foreign scripts', async () => {
    for (const path of ['/dashboard/', '/dashboard/dashboard.js', '/dashboard/dashboard.css', '/dashboard/nope.html']) {
      const res = await fetch(`${stack.baseUrl}${path}`);
      expect([path, res.headers.get('content-security-policy')]).toEqual([path, expect.stringContaining("frame-ancestors 'none'")]);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const redirect = await fetch(`${stack.baseUrl}/dashboard`, { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([302, '/dashboard/']);
  });

  it('refuses a wrong key and keeps the sign-in form', async () => {
    await page.goto(`${stack.baseUrl}/dashboard`);
    await page.fill('#api-key', 'ss_wrong');
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#sign-in-error:has-text("invalid")');
    expect(await page.isVisible('#board')).toBe(false);
    problems.length = 0; // the 401 itself is logged by the browser
  });

  it("signs in with a key kept in the tab's session and shows the API's numbers, fees, and runs with their trigger, finish and note", async () => {
    await page.fill('#api-key', stack.key);
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#board:not([hidden]) #total-paid');
    expect(await page.evaluate('[sessionStorage.length, localStorage.length]')).toEqual([1, 0]);

    const summary = (await stack.http.get('/v1/summary')).body;
    const shown = async (id: string) => [await page.getAttribute(`#total-${id}`, 'data-msat'), await page.textContent(`#total-${id}`)];
    // 123 sats split 60/20/20: 73.8 to the paid host (73 sats sent), 24.6 to the hanging one (24 sats unknown),
    // 24.6 to the dead one (all of it parked); the sub-sat rests (0.8 + 0.6) stay owed. And 100.75 sats parked
    // for the poisoned one.
    expect(await shown('accrued')).toEqual([summary.accruedMsat, '223.75 sats']);
    expect(await shown('paid')).toEqual([summary.paidMsat, '73 sats']);
    expect(await shown('in-flight')).toEqual([summary.inFlightMsat, '24 sats']);
    expect(await shown('unknown')).toEqual([String(summary.unknown.sats * 1000), '24 sats']);
    expect(await shown('parked')).toEqual([summary.parkedMsat, '125.35 sats']);
    expect(await shown('owed')).toEqual([summary.owedMsat, '1.4 sats']);
    expect(await shown('fees')).toEqual([String(summary.feesSats * 1000), `${summary.feesSats} sats`]);
    expect(await page.textContent('#total-events')).toBe('2');
    // Alby's API reports no balance: said so, never shown as 0 (admin keys only: see below for app keys).
    await page.waitForSelector('#total-wallet:has-text("not reported by this wallet")', WITHIN_A_REFRESH);
    expect(await page.getAttribute('#total-wallet', 'data-msat')).toBeNull();

    const [run] = (await stack.http.get('/v1/payouts')).body.payouts;
    expect(await page.locator('#payouts tbody tr').first().locator('td').allTextContents()).toEqual([
      run.id,
      'manual',
      'partial',
      expect.stringMatching(/GMT/),
      expect.stringMatching(/GMT/),
      '3',
      '1',
      '1',
      '0',
      '1',
      `${run.totals.paidSats} sats`,
      `${run.totals.feeSats} sats`,
      run.note ?? '',
    ]);
    const top = (await stack.http.get('/v1/recipients/top')).body.recipients;
    expect(await texts(page, '#top tbody tr td:first-child')).toEqual(top.map((r: { name: string }) => r.name));
    expect(top.map((r: { name: string }) => r.name)).toContain('Paid <b>Host</b>'); // shown as text, never as markup
    expect(await page.locator('#board b, #board img').count()).toBe(0);

    const bars = await page.locator('#chart rect').evaluateAll((rects) => rects.map((r) => r.getAttribute('data-msat')));
    expect(bars).toHaveLength(24);
    expect(bars.at(-1)).toBe(summary.paidMsat);
    // Labelled axes: sats (0 to the busiest hour) and the hours, in the browser's zone.
    expect(await texts(page, '#chart .y-tick')).toEqual(['0 sats', '36.5 sats', '73 sats']);
    expect(await texts(page, '#chart .x-tick')).toHaveLength(5);
    expect(await texts(page, '#chart .axis-label')).toEqual(['sats paid', expect.stringMatching(/^hour starting \(GMT[+-]?[0-9:]*\)$/)]);
    if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: 'docs/dashboard.png', fullPage: true });
  });

  it("lists every parked recipient, even one parked before any payment, with its reason and the msat parked (not its last payment's)", async () => {
    expect(await page.textContent('#totals dt:has-text("Parked")')).toBe('Parked (2)');
    const rows = page.locator('#parked tbody tr');
    const byName = async (name: string) => (await rows.filter({ hasText: name }).locator('td').allTextContents()).slice(0, 4);
    expect(await rows.count()).toBe(2);
    // Its payment was 24 sats; 24.6 sats are parked.
    expect((await stack.http.get('/v1/payments?status=parked')).body.keysends.map((k: { amountSats: number }) => k.amountSats)).toEqual([24]);
    expect(await byName('Dead')).toEqual(['Dead', 'test-app', 'FAILURE_REASON_NO_ROUTE', '24.6 sats']);
    // No payment at all: parked by the run that could not build its record.
    expect((await stack.http.get('/v1/payments')).body.keysends.filter((k: { recipient: { address: string } }) => k.recipient.address === poisoned)).toEqual(
      [],
    );
    expect(await byName('Poisoned')).toEqual(['Poisoned', 'test-app', expect.stringMatching(/cannot fit in 1024 bytes/), '100.75 sats']);
    expect(await rows.locator('button').allTextContents()).toEqual(['Unpark', 'Unpark']);
  });

  it('offers Check the wallet first for an unknown payment, and Mark not paid to admin keys only', async () => {
    const unknown = (await stack.http.get('/v1/payments?status=unknown')).body.keysends[0];
    const row = page.locator(`#problems tr[data-payment-id="${unknown.id}"]`);
    expect(await row.locator('td').nth(1).textContent()).toBe('unknown');
    expect(await row.locator('button').allTextContents()).toEqual(['Check the wallet', 'Mark paid', 'Mark not paid']);
    expect(await row.locator('td.last-check').textContent()).toBe('not checked yet');

    // A payouts:write key that is not an admin's: no override offered, and no wallet balance.
    const { key } = await stack.api.get(ApiKeysService).create('test-app', [Scope.PayoutsRead, Scope.PayoutsWrite]);
    const writer = await signIn(browser, stack.baseUrl, key);
    const writerRow = writer.locator(`#problems tr[data-payment-id="${unknown.id}"]`);
    await writerRow.waitFor();
    expect(await writerRow.locator('button').allTextContents()).toEqual(['Check the wallet', 'Mark paid']);
    expect(await writer.locator('#total-wallet').count()).toBe(0);
    await writer.context().close();

    // The wallet forgot it (the simulator is reset): the check finds nothing yet, and the row shows what it said.
    await stack.sim.reset();
    await row.locator('button', { hasText: 'Check the wallet' }).click();
    await page.waitForSelector(`#problems tr[data-payment-id="${unknown.id}"] td.last-check:not(:has-text("not checked yet"))`);
    const checked = (await stack.http.get(`/v1/payments/${unknown.id}`)).body;
    expect(checked).toMatchObject({ status: 'unknown', lastCheck: { walletSaid: expect.any(String) } });
    expect(await row.locator('td.last-check').textContent()).toContain(checked.lastCheck.walletSaid);
    expect(await page.textContent('#notice')).toContain(checked.lastCheck.walletSaid);

    // Mark paid asks for the preimage; cancelling sends nothing.
    await row.locator('button', { hasText: 'Mark paid' }).click();
    await page.waitForSelector('#preimage-dialog[open] #preimage-input');
    await page.click('#preimage-dialog .cancel');
    await page.waitForSelector('#preimage-dialog', { state: 'hidden' });
    expect((await stack.http.get(`/v1/payments/${unknown.id}`)).body).toMatchObject({ status: 'unknown', verdicts: [] });
  });

  it('asks for confirmation and a reason before an override (cancelling does nothing), then shows its audit entry', async () => {
    const unknown = (await stack.http.get('/v1/payments?status=unknown')).body.keysends[0];
    const row = page.locator(`#problems tr[data-payment-id="${unknown.id}"]`);
    const markNotPaid = () => row.locator('button', { hasText: 'Mark not paid' }).click();

    await markNotPaid();
    await page.waitForSelector('#override-dialog[open]');
    expect(await page.textContent('#override-dialog')).toContain('pays the recipient twice');
    expect(await page.textContent('#override-dialog .last-check')).toContain(unknown.lastCheck.walletSaid);
    // No reason: the confirm button does not send.
    await page.click('#override-dialog .confirm');
    expect(await page.isVisible('#override-dialog')).toBe(true);
    expect(await page.evaluate('document.querySelector("#override-reason").validity.valueMissing')).toBe(true);
    await page.fill('#override-reason', 'changed my mind');
    await page.click('#override-dialog .cancel');
    await page.waitForSelector('#override-dialog', { state: 'hidden' });
    expect((await stack.http.get(`/v1/payments/${unknown.id}`)).body).toMatchObject({ status: 'unknown', verdicts: [] });
    expect(await row.count()).toBe(1);

    const reason = 'the recipient confirmed nothing arrived';
    await markNotPaid();
    await page.waitForSelector('#override-dialog[open]');
    expect(await page.inputValue('#override-reason')).toBe(''); // nothing carried over from the cancelled one
    await page.fill('#override-reason', reason);
    await page.click('#override-dialog .confirm');
    await row.waitFor({ state: 'detached' });
    const resolved = (await stack.http.get(`/v1/payments/${unknown.id}`)).body;
    expect(resolved).toMatchObject({
      status: 'failed',
      resolvedBy: expect.stringContaining('(test-app)'),
      verdicts: [
        {
          outcome: 'failed',
          basis: 'override',
          decidedBy: expect.stringContaining('(test-app)'),
          reason,
          evidence: { walletSaid: unknown.lastCheck.walletSaid },
        },
      ],
    });
    expect(await page.getAttribute('#total-unknown', 'data-msat')).toBe('0');
    // The audit entry where payments are listed: who, when, why.
    const verdict = page.locator(`#payments tr[data-payment-id="${unknown.id}"] td.verdict`);
    expect(await verdict.getAttribute('data-basis')).toBe('override');
    const text = await verdict.textContent();
    expect(text).toContain(resolved.verdicts[0].decidedBy);
    expect(text).toContain(reason);
    expect(text).toContain(new Date(resolved.verdicts[0].at).getFullYear().toString());
  });

  it('refreshes itself: a new event and a new run show within a refresh, the scroll position stays', async () => {
    await page.setViewportSize({ width: 1100, height: 500 });
    await page.evaluate('window.scrollTo(0, 400)');
    const accrued = BigInt((await page.getAttribute('#total-accrued', 'data-msat'))!);
    await stack.postEvents([listened('dash-300', 300, [node('Fresh', fresh, 1)])]);
    await page.waitForSelector(`#total-accrued[data-msat="${accrued + 300_000n}"]`, WITHIN_A_REFRESH);
    expect(await page.textContent('#total-events')).toBe('3');

    const run = await stack.runPayout(); // pays Fresh, and the 24 sats the override returned to owed
    expect(run.totals).toMatchObject({ keysends: 2, succeeded: 2 });
    await page.waitForSelector(`#payouts tr[data-payout-id="${run.id}"]`, WITHIN_A_REFRESH);
    expect(await page.locator(`#payments tr`, { hasText: 'Fresh' }).count()).toBe(1);
    expect(await page.evaluate('window.scrollY')).toBe(400);
    await page.setViewportSize({ width: 1100, height: 1000 });
  });

  it('hides the runs that had nothing due (GET /v1/payouts?empty=false), and shows them on request', async () => {
    const empty = await stack.runPayout(); // nothing due: every recipient is paid or parked
    expect(empty).toMatchObject({ status: 'completed', totals: { keysends: 0 } });
    const ids = async (path: string) => (await stack.http.get(path)).body.payouts.map((p: { id: string }) => p.id);
    const all = await ids('/v1/payouts');
    expect(all[0]).toBe(empty.id);
    expect(await ids('/v1/payouts?empty=false')).toEqual(all.slice(1));
    expect(await ids('/v1/payouts?empty=true')).toEqual([empty.id]);
    expect((await stack.http.get('/v1/payouts?empty=no')).status).toBe(400);

    await nextRefresh(page);
    expect(await page.locator('#payouts tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-payout-id')))).toEqual(all.slice(1));
    await page.check('#show-empty');
    const emptyRow = page.locator(`#payouts tr[data-payout-id="${empty.id}"]`);
    await emptyRow.waitFor();
    expect(await emptyRow.locator('td').nth(1).textContent()).toBe('manual');
    await nextRefresh(page); // the choice holds across refreshes
    expect(await page.locator('#payouts tbody tr').count()).toBe(all.length);
    await page.uncheck('#show-empty');
    await emptyRow.waitFor({ state: 'detached' });
  });

  it('unparks a recipient after a confirmation that stays open across refreshes', async () => {
    const parkedRow = page.locator('#parked tbody tr', { hasText: 'Dead' });
    await parkedRow.locator('button', { hasText: 'Unpark' }).click();
    await page.waitForSelector('#unpark-dialog[open]');
    expect(await page.textContent('#unpark-dialog')).toContain('24.6 sats');
    expect(await page.textContent('#unpark-dialog .reason-ref')).toContain('FAILURE_REASON_NO_ROUTE');
    await nextRefresh(page);
    expect(await page.isVisible('#unpark-dialog')).toBe(true);
    expect((await stack.recipient(dead)).body).toMatchObject({ parked: true, parkedMsat: '24600' });
    await page.click('#unpark-dialog .confirm');
    await parkedRow.waitFor({ state: 'detached' });
    expect((await stack.recipient(dead)).body).toMatchObject({ parked: false, parkedMsat: '0', owedMsat: '24600' });
    expect(await page.textContent('#totals dt:has-text("Parked")')).toBe('Parked (1)');
    expect(problems).toEqual([]);
  });

  it("shows an app key its own app's data only", async () => {
    const { key } = await stack.api.get(ApiKeysService).create('other-app', [Scope.PayoutsRead, Scope.PayoutsWrite]);
    const other = await signIn(browser, stack.baseUrl, key);
    expect(await other.textContent('#whoami')).toBe('other-app (payouts:read, payouts:write)');
    for (const id of ['accrued', 'paid', 'parked', 'fees']) expect(await other.getAttribute(`#total-${id}`, 'data-msat')).toBe('0');
    expect(await other.textContent('#total-events')).toBe('0');
    for (const table of ['#parked', '#problems', '#payments', '#top', '#payouts']) {
      expect(await texts(other, `${table} tbody td`)).toEqual([expect.stringMatching(/^No |^Nothing/)]);
    }
    // Runs are shared, but none paid anything of this app's (a partial run included): empty for it, shown (with
    // its zero totals) only on request.
    const runs = (await stack.http.get('/v1/payouts')).body.payouts.map((p: { id: string }) => p.id);
    const ofOther = apiClient(stack.baseUrl, key);
    expect((await ofOther.get('/v1/payouts?empty=false')).body.payouts).toEqual([]);
    expect((await ofOther.get('/v1/payouts?empty=true')).body.payouts.map((p: { id: string }) => p.id)).toEqual(runs);
    await other.check('#show-empty');
    await other.waitForSelector('#payouts tbody tr[data-payout-id]');
    expect(await texts(other, '#payouts tbody td:nth-child(6)')).toEqual(expect.arrayContaining(['0']));
    expect(new Set(await texts(other, '#payouts tbody td:nth-child(6)'))).toEqual(new Set(['0']));
    await other.context().close();
  });

  it('fits 390 px: no sideways page scroll, wide tables scroll in their own box; every time carries its zone', async () => {
    const phone = await signIn(browser, stack.baseUrl, stack.key, { viewport: { width: 390, height: 844 }, timezoneId: ZONE });
    expect(await phone.evaluate('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(390);
    const boxes = (await phone.evaluate(`[...document.querySelectorAll('table')].map((t) => ({
      overflow: getComputedStyle(t.parentElement).overflowX, box: t.parentElement.clientWidth, table: t.scrollWidth,
    }))`)) as { overflow: string; box: number; table: number }[];
    expect(boxes).toHaveLength(6);
    for (const { overflow, box } of boxes) {
      expect(overflow).toBe('auto');
      expect(box).toBeLessThanOrEqual(390);
    }
    expect(boxes.some(({ box, table }) => table > box)).toBe(true); // the runs' table is wider: it scrolls inside

    expect(await phone.textContent('#zone')).toMatch(/^Times are in Asia\/(Kolkata|Calcutta) \(GMT\+5:30\)\.$/); // Chromium's name for it
    expect(await phone.textContent('#chart-x-label')).toBe('hour starting (GMT+5:30)');
    // Every shown time (runs, payments, parked, the last refresh) ends with the zone.
    const times = [
      ...(await texts(phone, '#payouts tbody td:nth-child(4), #payouts tbody td:nth-child(5)')),
      ...(await texts(phone, '#payments tbody td:nth-child(6), #parked tbody td:nth-child(5)')),
    ].filter((shown) => shown !== '-'); // not finished (yet)
    expect(times.length).toBeGreaterThan(4);
    for (const shown of times) expect(shown).toMatch(/ GMT\+5:30$/);
    expect(await phone.textContent('#updated')).toContain('GMT+5:30');
    await phone.context().close();
  });

  it('forgets the key on sign-out and in a new tab', async () => {
    await page.click('#sign-out');
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    const other = await page.context().newPage();
    await other.goto(`${stack.baseUrl}/dashboard/`);
    await other.waitForSelector('#sign-in:not([hidden])');
    await other.close();
    expect(problems).toEqual([]);
  });
});

// The wallet's balance as the workers report it, with no worker here: the test publishes what one would.
describe('dashboard: the wallet balance (e2e)', () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows the balance a worker reported (admin keys only), and says so when none reported recently', async () => {
    const page = await signIn(browser, stack.baseUrl, stack.key);
    expect(await page.textContent('#total-wallet')).toBe('no recent report');
    await stack.api.get(WalletStatusStore).publish({ reachable: true, authorized: true, balanceMsat: 123_456_789 });
    await page.waitForSelector('#total-wallet[data-msat="123456789"]:has-text("123,456.789 sats")', WITHIN_A_REFRESH);

    const { key } = await stack.api.get(ApiKeysService).create('test-app', [Scope.PayoutsRead]);
    const reader = await signIn(browser, stack.baseUrl, key);
    expect(await reader.locator('#total-wallet').count()).toBe(0);
  });
});
