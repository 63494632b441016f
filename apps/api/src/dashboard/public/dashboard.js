// The dashboard: plain modules, no build step. Every value from the API is written with textContent (names,
// notes and errors come from podcast feeds, apps and wallets); money arrives as msat decimal strings and is
// formatted with BigInt. It refreshes itself every REFRESH_MS, leaving open dialogs and the scroll position alone.
const KEY = 'splitstream-api-key';
const REFRESH_MS = 5_000;
const $ = (selector) => document.querySelector(selector);

const sats = (msat) => {
  const value = BigInt(msat);
  const whole = (value / 1000n).toLocaleString('en-US');
  const rest = value % 1000n;
  return rest === 0n ? `${whole} sats` : `${whole}.${String(rest).padStart(3, '0').replace(/0+$/, '')} sats`;
};
const satsOf = (whole) => sats(String(BigInt(whole) * 1000n));
// Every time shown carries its zone (the browser's, as an offset: GMT+1), so no reader has to guess it.
const withZone = { dateStyle: 'medium', timeStyle: 'medium', hourCycle: 'h23' };
const time = (iso) => (iso ? `${new Date(iso).toLocaleString(undefined, withZone)} ${zoneName(new Date(iso))}` : '-');
const zoneName = (date) => new Intl.DateTimeFormat('en-US', { timeZoneName: 'shortOffset' }).formatToParts(date).find((p) => p.type === 'timeZoneName').value;
const hourOf = (iso) => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const shortKey = (address) => `${address.slice(0, 10)}...${address.slice(-6)}`;

async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${sessionStorage.getItem(KEY)}`, ...(init.body && { 'content-type': 'application/json' }) },
  });
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(body.message ?? `HTTP ${response.status}`), { status: response.status });
  return body;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fill(table, items, render, emptyText) {
  const body = $(`${table} tbody`);
  body.replaceChildren();
  if (items.length === 0) {
    const row = body.insertRow();
    const td = cell(row, emptyText, 'empty');
    td.colSpan = $(`${table} thead tr`).children.length;
  }
  for (const item of items) render(body.insertRow(), item);
}

// The wallet's balance as the worker last reported it on the admin /health (which answers 503 with the same
// report when something is down). A rail that reports no balance (Alby's API) says so: never shown as 0.
async function walletBalance() {
  const response = await fetch('/health', { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY)}` } });
  const wallet = (await response.json()).details?.wallet;
  if (wallet?.balanceMsat !== undefined) return { msat: wallet.balanceMsat, text: sats(wallet.balanceMsat) };
  if (!wallet || wallet.state === 'unknown') return { text: 'no recent report' };
  return { text: wallet.status === 'down' ? 'wallet refuses our credentials' : 'not reported by this wallet' };
}

function renderTotals(summary, parked, wallet) {
  const totals = [
    ['accrued', 'Accrued', sats(summary.accruedMsat), summary.accruedMsat],
    ['owed', 'Owed', sats(summary.owedMsat), summary.owedMsat],
    ['in-flight', 'In flight', sats(summary.inFlightMsat), summary.inFlightMsat],
    ['paid', 'Paid', sats(summary.paidMsat), summary.paidMsat],
    ['fees', 'Fees paid', satsOf(summary.feesSats), String(BigInt(summary.feesSats) * 1000n)],
    ['unknown', `Unknown (${summary.unknown.keysends})`, satsOf(summary.unknown.sats), String(BigInt(summary.unknown.sats) * 1000n)],
    ['parked', `Parked (${parked})`, sats(summary.parkedMsat), summary.parkedMsat],
    ['events', 'Events accepted', summary.events.accepted.toLocaleString('en-US')],
    ...(wallet ? [['wallet', 'Wallet balance', wallet.text, wallet.msat]] : []),
  ];
  $('#totals').replaceChildren(
    ...totals.map(([id, label, text, msat]) => {
      const box = document.createElement('div');
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = label;
      dd.textContent = text;
      dd.id = `total-${id}`;
      if (msat !== undefined) dd.dataset.msat = msat;
      box.append(dt, dd);
      return box;
    }),
  );
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// Bars of sats paid per hour, a sats axis (0, half, the busiest hour) and an hour axis in the browser's zone.
const PLOT = { left: 92, right: 712, top: 10, bottom: 160 };
function renderChart(hours) {
  const max = hours.reduce((m, h) => (BigInt(h.paidMsat) > m ? BigInt(h.paidMsat) : m), 0n);
  const top = max > 0n ? max : 1000n;
  const width = (PLOT.right - PLOT.left) / hours.length;
  const height = PLOT.bottom - PLOT.top;
  // Bar heights are for the eye only: a ratio in per-mille, never money.
  const y = (msat) => PLOT.bottom - (Number((msat * 1000n) / top) / 1000) * height;
  const bars = hours.map((h, i) => {
    const rect = svg('rect', {
      x: PLOT.left + i * width + 1,
      width: Math.max(1, width - 2),
      y: y(BigInt(h.paidMsat)),
      height: PLOT.bottom - y(BigInt(h.paidMsat)),
    });
    rect.dataset.msat = h.paidMsat;
    rect.append(svg('title', {}, `${time(h.hour)}: ${sats(h.paidMsat)} in ${h.keysends} keysends`));
    return rect;
  });
  const satsTicks = [0n, top / 2n, top].map((msat) =>
    svg('text', { x: PLOT.left - 6, y: y(msat) + 4, 'text-anchor': 'end', class: 'tick y-tick' }, sats(msat)),
  );
  const hourTicks = hours
    .map((h, i) => [h, i])
    .filter(([, i]) => i % 6 === 0 || i === hours.length - 1)
    .map(([h, i]) => svg('text', { x: PLOT.left + (i + 0.5) * width, y: PLOT.bottom + 16, 'text-anchor': 'middle', class: 'tick x-tick' }, hourOf(h.hour)));
  const zone = hours.length ? zoneName(new Date(hours.at(-1).hour)) : '';
  $('#chart').replaceChildren(
    svg('line', { x1: PLOT.left, y1: PLOT.top, x2: PLOT.left, y2: PLOT.bottom, class: 'axis' }),
    svg('line', { x1: PLOT.left, y1: PLOT.bottom, x2: PLOT.right, y2: PLOT.bottom, class: 'axis' }),
    ...bars,
    ...satsTicks,
    ...hourTicks,
    svg(
      'text',
      { x: 12, y: (PLOT.top + PLOT.bottom) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(PLOT.top + PLOT.bottom) / 2})`, class: 'axis-label' },
      'sats paid',
    ),
    svg('text', { x: (PLOT.left + PLOT.right) / 2, y: 194, 'text-anchor': 'middle', class: 'axis-label', id: 'chart-x-label' }, `hour starting (${zone})`),
  );
}

function actionButton(label, run) {
  const button = document.createElement('button');
  button.textContent = label;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await run();
      await refresh();
    } catch (error) {
      $('#error').textContent = error.message;
      button.disabled = false;
    }
  });
  return button;
}

// Opens a confirmation dialog (its texts set by `describe(dialog)`); `send(value)` runs on confirm (the field's
// value, trimmed, where the dialog has one) and the dialog stays open showing the API's error if it throws.
// Refreshes leave an open dialog alone. Resolves true once sent, false when cancelled.
function ask(dialogId, describe, send) {
  const dialog = $(dialogId);
  const form = dialog.querySelector('form');
  const field = form.querySelector('input, textarea');
  const error = form.querySelector('.dialog-error');
  describe(dialog);
  if (field) field.value = '';
  error.textContent = '';
  return new Promise((resolve) => {
    let sent = false;
    const onSubmit = async (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      const confirm = form.querySelector('.confirm');
      confirm.disabled = true;
      try {
        await send(field?.value.trim());
        sent = true;
        dialog.close();
      } catch (failure) {
        error.textContent = failure.message;
      } finally {
        confirm.disabled = false;
      }
    };
    const onCancel = () => dialog.close();
    const onClose = () => {
      form.removeEventListener('submit', onSubmit);
      form.querySelector('.cancel').removeEventListener('click', onCancel);
      dialog.removeEventListener('close', onClose);
      resolve(sent);
    };
    form.addEventListener('submit', onSubmit);
    form.querySelector('.cancel').addEventListener('click', onCancel);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    (field ?? form.querySelector('.cancel')).focus();
  });
}

const setText = (dialog, selector, text) => {
  for (const element of dialog.querySelectorAll(selector)) element.textContent = text;
};
const aboutPayment = (payment) => (dialog) => {
  setText(dialog, '.payment-ref', payment.id);
  setText(
    dialog,
    '.last-check',
    payment.lastCheck
      ? `The wallet, asked ${time(payment.lastCheck.at)}, said: ${payment.lastCheck.walletSaid ?? '(nothing)'}`
      : 'The wallet has not been checked for this payment: check the wallet first.',
  );
};

const resolvePayment = (id, body) => api(`/v1/payments/${id}/resolve`, { method: 'POST', body: JSON.stringify(body) });

// Asks the wallet (through the worker) about one unknown payment, then shows what it said.
async function checkWallet(payment) {
  $('#notice').textContent = '';
  const checked = await api(`/v1/payments/${payment.id}/check`, { method: 'POST', body: '{}' });
  if (checked.status === 'queued') {
    $('#notice').textContent = `Payment ${payment.id}: the worker is still asking the wallet; refresh in a moment.`;
  } else if (checked.status !== 'unknown') {
    $('#notice').textContent = `Payment ${payment.id}: the wallet settled it, ${checked.status}.`;
  } else {
    $('#notice').textContent = `Payment ${payment.id}: the wallet said: ${checked.lastCheck?.walletSaid ?? '(nothing)'}`;
  }
}

const lastCheckText = (k) => (k.lastCheck ? `${k.lastCheck.walletSaid ?? '(nothing)'} (${time(k.lastCheck.at)})` : 'not checked yet');
const verdictText = (v) => `${v.outcome === 'succeeded' ? 'paid' : 'not paid'} (${v.basis}) by ${v.decidedBy}, ${time(v.at)}: ${v.reason}`;

// What every list of payments starts with: which payment, its status, to whom, how much.
function paymentCells(row, k) {
  row.dataset.paymentId = k.id;
  cell(row, k.id);
  cell(row, k.status, `status-${k.status}`);
  cell(row, k.recipient.name ?? shortKey(k.recipient.address));
  cell(row, satsOf(k.amountSats), 'amount');
}

function renderProblems(keysends, isAdmin) {
  fill(
    '#problems',
    keysends,
    (row, k) => {
      paymentCells(row, k);
      cell(row, k.lastErrorMessage ?? '');
      cell(row, lastCheckText(k), 'last-check');
      const actions = row.insertCell();
      if (!canWrite) return;
      // The wallet first; a verdict by hand needs proof, or (admins only) a confirmed override with a reason.
      actions.append(
        actionButton('Check the wallet', () => checkWallet(k)),
        actionButton('Mark paid', () => ask('#preimage-dialog', aboutPayment(k), (preimage) => resolvePayment(k.id, { outcome: 'succeeded', preimage }))),
      );
      if (isAdmin) {
        actions.append(
          actionButton('Mark not paid', () =>
            ask('#override-dialog', aboutPayment(k), (reason) => resolvePayment(k.id, { outcome: 'failed', confirm: true, reason })),
          ),
        );
      }
    },
    'Nothing needs a look.',
  );
}

// One row per recipient parked for an app: an admin key sees each app's parking (`apps`), an app key its own.
// The amount is what is parked, to the msat: everything it is owed by that app, not its last payment.
const parkedRowsOf = (recipients, app) =>
  recipients.flatMap((r) =>
    (r.apps ?? [{ ...r, app }])
      .filter((a) => a.parked)
      .map((a) => ({ recipient: r, app: a.app, name: a.name ?? r.name, reason: a.lastErrorMessage, parkedMsat: a.parkedMsat, parkedAt: a.parkedAt })),
  );

function renderParked(rows) {
  fill(
    '#parked',
    rows,
    (row, p) => {
      const { address, customKey, customValue } = p.recipient;
      row.dataset.recipientId = p.recipient.id;
      row.dataset.app = p.app;
      const name = p.name ?? shortKey(address);
      cell(row, name);
      cell(row, p.app);
      cell(row, p.reason ?? '(no reason recorded)', 'reason');
      cell(row, sats(p.parkedMsat), 'amount').dataset.msat = p.parkedMsat;
      cell(row, time(p.parkedAt));
      const actions = row.insertCell();
      if (!canWrite) return;
      // Only that app's parked money: another app's stays parked.
      const identity = { address, ...(customKey && { customKey, customValue }), app: p.app };
      const describe = (dialog) => {
        setText(dialog, '.recipient-ref', `${name} (${p.app})`);
        setText(dialog, '.parked-ref', sats(p.parkedMsat));
        setText(dialog, '.reason-ref', `Parked ${time(p.parkedAt)} because: ${p.reason ?? '(no reason recorded)'}`);
      };
      actions.append(
        actionButton('Unpark', () => ask('#unpark-dialog', describe, () => api('/v1/recipients/unpark', { method: 'POST', body: JSON.stringify(identity) }))),
      );
    },
    'No recipient is parked.',
  );
}

// Where payments are listed, a settled unknown payment shows its verdict: who, when, why.
function renderPayments(payments) {
  fill(
    '#payments',
    payments,
    (row, k) => {
      paymentCells(row, k);
      cell(row, k.feeSats === null ? '-' : satsOf(k.feeSats), 'amount');
      cell(row, time(k.finishedAt));
      const verdict = k.verdicts.at(-1);
      const td = cell(row, verdict ? verdictText(verdict) : '', 'verdict');
      if (verdict) td.dataset.basis = verdict.basis;
    },
    'No payments yet.',
  );
}

// Boostagrams as sent: set as text (cell), never as markup, so a message cannot inject anything.
function renderBoosts(boosts) {
  fill(
    '#boosts',
    boosts,
    (row, b) => {
      cell(row, b.id);
      cell(row, b.status, `status-${b.status}`);
      cell(row, b.senderName ?? 'anonymous');
      cell(row, b.message, 'message');
      cell(row, sats(b.amountMsat), 'amount');
      cell(row, time(b.receivedAt));
    },
    'No boosts yet.',
  );
}

function renderPayouts(payouts, showEmpty) {
  fill(
    '#payouts',
    payouts,
    (row, p) => {
      row.dataset.payoutId = p.id;
      cell(row, p.id);
      cell(row, p.trigger === 'schedule' ? 'scheduled' : p.trigger, 'trigger');
      cell(row, p.status, `status-${p.status}`);
      cell(row, time(p.startedAt ?? p.createdAt));
      cell(row, time(p.finishedAt), 'finished');
      for (const n of [p.totals.keysends, p.totals.succeeded, p.totals.failed, p.totals.cancelled, p.totals.unknown]) cell(row, String(n), 'amount');
      cell(row, satsOf(p.totals.paidSats), 'amount');
      cell(row, satsOf(p.totals.feeSats), 'amount');
      cell(row, p.note ?? '', 'note');
    },
    showEmpty ? 'No payout runs yet.' : 'No payout run has paid anything yet.',
  );
}

let canWrite = false;
let timer;
let refreshing;

// One refresh at a time: a click's refresh waits for a poll's and then runs its own, so it shows its effect.
async function refresh() {
  while (refreshing) await refreshing.catch(() => undefined);
  refreshing = load();
  try {
    await refreshing;
  } finally {
    refreshing = undefined;
  }
}

async function load() {
  const me = await api('/v1/apps/me');
  const isAdmin = me.scopes.includes('admin');
  canWrite = me.scopes.includes('payouts:write');
  const showEmpty = $('#show-empty').checked;
  const [summary, parked, unknown, recent, payouts, top, chart, wallet, boosts] = await Promise.all([
    api('/v1/summary'),
    api('/v1/recipients?parked=true&limit=100'),
    api('/v1/payments?status=unknown&limit=50'),
    api('/v1/payments?limit=20'),
    api(`/v1/payouts?limit=10${showEmpty ? '' : '&empty=false'}`),
    api('/v1/recipients/top?limit=10'),
    api('/v1/payouts/paid-per-hour?hours=24'),
    isAdmin ? walletBalance().catch(() => ({ text: 'health check did not answer' })) : undefined,
    api('/v1/boosts?limit=10'),
  ]);
  const parkedRows = parkedRowsOf(parked.recipients, me.app);
  $('#whoami').textContent = `${me.app} (${me.scopes.join(', ')})`;
  renderTotals(summary, parked.nextBefore ? `${parkedRows.length}+` : parkedRows.length, wallet);
  renderChart(chart.hours);
  renderParked(parkedRows);
  renderProblems(unknown.keysends, isAdmin);
  renderPayments(recent.keysends);
  renderPayouts(payouts.payouts, showEmpty);
  renderBoosts(boosts.boosts);
  fill(
    '#top',
    top.recipients,
    (row, r) => {
      cell(row, r.name ?? shortKey(r.address));
      cell(row, r.state, `status-${r.state}`);
      for (const msat of [r.accruedMsat, r.paidMsat, r.owedMsat, r.parkedMsat]) cell(row, sats(msat), 'amount');
    },
    'No recipients yet.',
  );
  const now = new Date();
  $('#updated').textContent = `Updated ${time(now.toISOString())}; refreshes every ${REFRESH_MS / 1000} s.`;
  $('#updated').dataset.at = String(now.getTime());
  $('#zone').textContent = `Times are in ${Intl.DateTimeFormat().resolvedOptions().timeZone} (${zoneName(now)}).`;
  $('#error').textContent = '';
}

// Polls while signed in; a failed poll shows its error and the next one tries again (a revoked key signs out).
async function poll() {
  try {
    await refresh();
  } catch (error) {
    if (error.status === 401) return signOut(error.message);
    $('#error').textContent = `Could not refresh: ${error.message}`;
  }
  if (sessionStorage.getItem(KEY)) timer = setTimeout(poll, REFRESH_MS);
}

function show(signedIn) {
  $('#sign-in').hidden = signedIn;
  $('#board').hidden = !signedIn;
  $('#sign-out').hidden = !signedIn;
}

function signOut(message = '') {
  clearTimeout(timer);
  sessionStorage.removeItem(KEY);
  $('#whoami').textContent = '';
  $('#sign-in-error').textContent = message;
  show(false);
}

async function start() {
  if (!sessionStorage.getItem(KEY)) return show(false);
  try {
    await refresh();
    show(true);
    clearTimeout(timer);
    timer = setTimeout(poll, REFRESH_MS);
  } catch (error) {
    if (error.status === 401) sessionStorage.removeItem(KEY);
    $('#sign-in-error').textContent = error.message;
    show(false);
  }
}

$('#sign-in').addEventListener('submit', async (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $('#api-key').value.trim());
  $('#api-key').value = '';
  await start();
});
$('#sign-out').addEventListener('click', () => signOut());
$('#show-empty').addEventListener('change', () => refresh().catch((error) => ($('#error').textContent = error.message)));
start();
