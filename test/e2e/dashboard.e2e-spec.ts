import { type Browser, chromium, type Page } from 'playwright-core';
import { ApiKeysService, Scope } from '@splitstream/auth';
import { pubkey } from '../../libs/money/src/testing/value-builders.js';
import { type Stack, startStack } from '../support/stack.js';

const paid = pubkey(0xd0a1);
const hangs = pubkey(0xd0a2);
const dead = pubkey(0xd0a3);
const node = (name: string, address: string, split: number) => ({ name, type: 'node', address, split });

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

// The dashboard in a real headless Chromium against the real api: it signs in, shows the API's numbers, checks an
// unknown payment in the wallet, overrides it only after a confirmation with a reason (and shows the audit entry),
// and unparks a recipient.
describe('dashboard in headless Chromium (e2e)', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    stack = await startStack({ MAX_ATTEMPTS: '1', ALBY_TIMEOUT_MS: '500', KEYSEND_BATCH_SIZE: '1' });
    await stack.postEvents([
      {
        id: 'dash-1',
        feedGuid: 'dash-feed',
        itemGuid: 'dash-item',
        feedTitle: 'Dashboard Show',
        itemTitle: '<img src=x onerror=alert(1)>',
        position: 0,
        seconds: 60,
        satsPerMinute: 123,
        value: { type: 'lightning', method: 'keysend', recipients: [node('Paid <b>Host</b>', paid, 60), node('Hangs', hangs, 20), node('Dead', dead, 20)] },
      },
    ]);
    await stack.accumulated();
    await stack.sim.setRule(hangs, { hang: true });
    await stack.sim.setRule(dead, { fail: { code: 10, message: 'FAILURE_REASON_NO_ROUTE' } });
    expect((await stack.runPayout()).totals).toMatchObject({ succeeded: 1, unknown: 1, failed: 1 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('refuses a wrong key and keeps the sign-in form', async () => {
    await page.goto(`${stack.baseUrl}/dashboard`);
    await page.fill('#api-key', 'ss_wrong');
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#sign-in-error:has-text("invalid")');
    expect(await page.isVisible('#board')).toBe(false);
    problems.length = 0; // the 401 itself is logged by the browser
  });

  it("signs in with a key kept in the tab's session and shows the API's numbers", async () => {
    await page.fill('#api-key', stack.key);
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#board:not([hidden]) #total-paid');
    expect(await page.evaluate('[sessionStorage.length, localStorage.length]')).toEqual([1, 0]);

    const summary = (await stack.http.get('/v1/summary')).body;
    const shown = async (id: string) => [await page.getAttribute(`#total-${id}`, 'data-msat'), await page.textContent(`#total-${id}`)];
    // 123 sats split 60/20/20: 73.8 to the paid host (73 sats sent), 24.6 to the hanging one (24 sats unknown),
    // 24.6 to the dead one (all of it parked); the sub-sat rests (0.8 + 0.6) stay owed.
    expect(await shown('accrued')).toEqual([summary.accruedMsat, '123 sats']);
    expect(await shown('paid')).toEqual([summary.paidMsat, '73 sats']);
    expect(await shown('in-flight')).toEqual([summary.inFlightMsat, '24 sats']);
    expect(await shown('unknown')).toEqual([String(summary.unknown.sats * 1000), '24 sats']);
    expect(await shown('parked')).toEqual([summary.parkedMsat, '24.6 sats']);
    expect(await shown('owed')).toEqual([summary.owedMsat, '1.4 sats']);

    const payouts = (await stack.http.get('/v1/payouts')).body.payouts;
    expect(await page.locator('#payouts tbody tr').first().locator('td').allTextContents()).toEqual([
      payouts[0].id,
      'partial',
      expect.any(String),
      '3',
      '1',
      '1',
      '1',
      `${payouts[0].totals.paidSats} sats`,
    ]);
    const top = (await stack.http.get('/v1/recipients/top')).body.recipients;
    expect(await page.locator('#top tbody tr td:first-child').allTextContents()).toEqual(top.map((r: { name: string }) => r.name));
    expect(top[0].name).toBe('Paid <b>Host</b>'); // shown as text, never as markup
    const bars = await page.locator('#chart rect').evaluateAll((rects) => rects.map((r) => r.getAttribute('data-msat')));
    expect(bars).toHaveLength(24);
    expect(bars.at(-1)).toBe(summary.paidMsat);
    if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: 'docs/dashboard.png', fullPage: true });
  });

  it('offers Check the wallet first for an unknown payment, and Mark not paid to admin keys only', async () => {
    const unknown = (await stack.http.get('/v1/payments?status=unknown')).body.keysends[0];
    const row = page.locator(`#problems tr[data-payment-id="${unknown.id}"]`);
    expect(await row.locator('td').nth(1).textContent()).toBe('unknown');
    expect(await row.locator('button').allTextContents()).toEqual(['Check the wallet', 'Mark paid', 'Mark not paid']);
    expect(await row.locator('td.last-check').textContent()).toBe('not checked yet');

    // A payouts:write key that is not an admin's: no override offered.
    const { key } = await stack.api.get(ApiKeysService).create('test-app', [Scope.PayoutsRead, Scope.PayoutsWrite]);
    const writer = await browser.newPage();
    await writer.goto(`${stack.baseUrl}/dashboard/`);
    await writer.fill('#api-key', key);
    await writer.click('#sign-in button[type=submit]');
    const writerRow = writer.locator(`#problems tr[data-payment-id="${unknown.id}"]`);
    await writerRow.waitFor();
    expect(await writerRow.locator('button').allTextContents()).toEqual(['Check the wallet', 'Mark paid']);
    await writer.close();

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

  it('unparks a recipient from the problem list', async () => {
    const parkedRow = page.locator('#problems tr', { hasText: 'Dead' });
    await parkedRow.locator('button', { hasText: 'Unpark' }).click();
    await parkedRow.waitFor({ state: 'detached' });
    expect((await stack.recipient(dead)).body).toMatchObject({ parked: false, parkedMsat: '0' });
    await page.waitForSelector('#problems td.empty');
    expect(problems).toEqual([]);
  });

  it('forgets the key on sign-out and in a new tab', async () => {
    await page.click('#sign-out');
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    const other = await browser.newPage();
    await other.goto(`${stack.baseUrl}/dashboard/`);
    await other.waitForSelector('#sign-in:not([hidden])');
    await other.close();
  });
});
