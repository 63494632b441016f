// The dashboard: plain modules, no build step. Every value from the API is written with textContent (names and
// titles come from podcast feeds); money arrives as msat decimal strings and is formatted with BigInt.
const KEY = 'splitstream-api-key';
const $ = (selector) => document.querySelector(selector);

const sats = (msat) => {
  const value = BigInt(msat);
  const whole = (value / 1000n).toLocaleString('en-US');
  const rest = value % 1000n;
  return rest === 0n ? `${whole} sats` : `${whole}.${String(rest).padStart(3, '0').replace(/0+$/, '')} sats`;
};
const time = (iso) => (iso ? new Date(iso).toLocaleString() : '-');
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

function renderTotals(summary, parked) {
  const totals = [
    ['accrued', 'Accrued', summary.accruedMsat],
    ['owed', 'Owed', summary.owedMsat],
    ['in-flight', 'In flight', summary.inFlightMsat],
    ['paid', 'Paid', summary.paidMsat],
    ['unknown', `Unknown (${summary.unknown.keysends})`, String(BigInt(summary.unknown.sats) * 1000n)],
    ['parked', `Parked (${parked})`, summary.parkedMsat],
  ];
  $('#totals').replaceChildren(
    ...totals.map(([id, label, msat]) => {
      const box = document.createElement('div');
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = label;
      dd.textContent = sats(msat);
      dd.id = `total-${id}`;
      dd.dataset.msat = msat;
      box.append(dt, dd);
      return box;
    }),
  );
}

function renderChart(hours) {
  const svg = $('#chart');
  const max = hours.reduce((m, h) => (BigInt(h.paidMsat) > m ? BigInt(h.paidMsat) : m), 1n);
  const width = 720 / hours.length;
  svg.replaceChildren(
    ...hours.map((h, i) => {
      const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      // Bar heights are for the eye only: a ratio in per-mille, never money.
      const height = (Number((BigInt(h.paidMsat) * 1000n) / max) / 1000) * 150;
      rect.setAttribute('x', String(i * width + 1));
      rect.setAttribute('width', String(Math.max(1, width - 2)));
      rect.setAttribute('y', String(160 - height));
      rect.setAttribute('height', String(height));
      rect.dataset.msat = h.paidMsat;
      const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
      title.textContent = `${time(h.hour)}: ${sats(h.paidMsat)} in ${h.keysends} keysends`;
      rect.append(title);
      return rect;
    }),
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

// Opens a confirmation dialog for one payment; `send(value)` runs on confirm (the field's value, trimmed) and the
// dialog stays open showing the API's error if it throws. Resolves true once sent, false when cancelled.
function ask(dialogId, payment, send) {
  const dialog = $(dialogId);
  const form = dialog.querySelector('form');
  const field = form.querySelector('input, textarea');
  const error = form.querySelector('.dialog-error');
  for (const ref of dialog.querySelectorAll('.payment-ref')) ref.textContent = payment.id;
  const lastCheck = dialog.querySelector('.last-check');
  if (lastCheck) {
    lastCheck.textContent = payment.lastCheck
      ? `The wallet, asked ${time(payment.lastCheck.at)}, said: ${payment.lastCheck.walletSaid ?? '(nothing)'}`
      : 'The wallet has not been checked for this payment: check the wallet first.';
  }
  field.value = '';
  error.textContent = '';
  return new Promise((resolve) => {
    let sent = false;
    const onSubmit = async (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      const confirm = form.querySelector('.confirm');
      confirm.disabled = true;
      try {
        await send(field.value.trim());
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
    field.focus();
  });
}

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

function renderProblems(keysends, canWrite, isAdmin) {
  fill(
    '#problems',
    keysends,
    (row, k) => {
      row.dataset.paymentId = k.id;
      cell(row, k.id);
      cell(row, k.parked ? 'parked' : k.status, `status-${k.parked ? 'parked' : k.status}`);
      cell(row, k.recipient.name ?? shortKey(k.recipient.address));
      cell(row, sats(String(BigInt(k.amountSats) * 1000n)), 'amount');
      cell(row, k.lastErrorMessage ?? '');
      cell(row, k.status === 'unknown' ? lastCheckText(k) : '', 'last-check');
      const actions = row.insertCell();
      if (!canWrite) return;
      if (k.status === 'unknown') {
        // The wallet first; a verdict by hand needs proof, or (admins only) a confirmed override with a reason.
        actions.append(
          actionButton('Check the wallet', () => checkWallet(k)),
          actionButton('Mark paid', () => ask('#preimage-dialog', k, (preimage) => resolvePayment(k.id, { outcome: 'succeeded', preimage }))),
        );
        if (isAdmin) {
          actions.append(
            actionButton('Mark not paid', () => ask('#override-dialog', k, (reason) => resolvePayment(k.id, { outcome: 'failed', confirm: true, reason }))),
          );
        }
      } else if (k.parked) {
        const { address, customKey, customValue } = k.recipient;
        // Only the payment's app's parked money: another app's stays parked.
        const identity = { address, ...(customKey && { customKey, customValue }), app: k.app };
        actions.append(actionButton('Unpark', () => api('/v1/recipients/unpark', { method: 'POST', body: JSON.stringify(identity) })));
      }
    },
    'Nothing needs a look.',
  );
}

// Where payments are listed, a settled unknown payment shows its verdict: who, when, why.
function renderPayments(payments) {
  fill(
    '#payments',
    payments,
    (row, k) => {
      row.dataset.paymentId = k.id;
      cell(row, k.id);
      cell(row, k.status, `status-${k.status}`);
      cell(row, k.recipient.name ?? shortKey(k.recipient.address));
      cell(row, sats(String(BigInt(k.amountSats) * 1000n)), 'amount');
      cell(row, time(k.finishedAt));
      const verdict = k.verdicts.at(-1);
      const td = cell(row, verdict ? verdictText(verdict) : '', 'verdict');
      if (verdict) td.dataset.basis = verdict.basis;
    },
    'No payments yet.',
  );
}

async function refresh() {
  const me = await api('/v1/apps/me');
  $('#whoami').textContent = `${me.app} (${me.scopes.join(', ')})`;
  const [summary, parkedRecipients, unknown, parked, recent, payouts, top, chart] = await Promise.all([
    api('/v1/summary'),
    api('/v1/recipients?parked=true&limit=100'),
    api('/v1/payments?status=unknown&limit=50'),
    api('/v1/payments?status=parked&limit=50'),
    api('/v1/payments?limit=20'),
    api('/v1/payouts?limit=10'),
    api('/v1/recipients/top?limit=10'),
    api('/v1/payouts/paid-per-hour?hours=24'),
  ]);
  renderTotals(summary, parkedRecipients.recipients.length);
  renderChart(chart.hours);
  // One row per recipient parked for an app (its latest failed payment of that app), after every unknown payment.
  const seen = new Set();
  const parkedKey = (k) => JSON.stringify([k.app, k.recipient.address, k.recipient.customValue]);
  const parkedRows = parked.keysends.filter((k) => !seen.has(parkedKey(k)) && seen.add(parkedKey(k)));
  renderProblems([...unknown.keysends, ...parkedRows.map((k) => ({ ...k, parked: true }))], me.scopes.includes('payouts:write'), me.scopes.includes('admin'));
  renderPayments(recent.keysends);
  fill(
    '#payouts',
    payouts.payouts,
    (row, p) => {
      cell(row, p.id);
      cell(row, p.status, `status-${p.status}`);
      cell(row, time(p.startedAt ?? p.createdAt));
      for (const n of [p.totals.keysends, p.totals.succeeded, p.totals.failed, p.totals.unknown]) cell(row, String(n), 'amount');
      cell(row, sats(String(BigInt(p.totals.paidSats) * 1000n)), 'amount');
    },
    'No payout runs yet.',
  );
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
  $('#error').textContent = '';
}

function show(signedIn) {
  $('#sign-in').hidden = signedIn;
  $('#board').hidden = !signedIn;
  $('#sign-out').hidden = !signedIn;
}

async function start() {
  if (!sessionStorage.getItem(KEY)) return show(false);
  try {
    await refresh();
    show(true);
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
$('#sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  $('#whoami').textContent = '';
  show(false);
});
start();
