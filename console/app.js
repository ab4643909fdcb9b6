// SPDX-License-Identifier: Apache-2.0
// The Vouch console: a single page over vouchd's own APIs (docs/console.md).
// No framework, no inline code (the CSP forbids it), no innerHTML with data.
import { canonicalQuery, signedBody } from './sign.js';

const VERSION = '2020-06-13';
const SESSION_KEY = 'vouch.console';   // sessionStorage: dies with the tab
const PAGE_SIZE = 20;
const REPORTS_PAGE = 20;   // reports per page of an instance's timeline
const DAY_MS = 86400000;

// Boot stages as the trusted-instance console groups PCR0..9.
export const STAGES = [
  { name: 'Firmware', pcrs: [0, 1] },
  { name: 'UEFI drivers', pcrs: [2, 3] },
  { name: 'Boot loader', pcrs: [4, 5] },
  { name: 'Secure Boot', pcrs: [6, 7] },
  { name: 'Kernel & initrd', pcrs: [8, 9] },
];

const STATUS = {
  1: { text: 'Trusted', cls: 'ok', icon: '\u2714' },
  2: { text: 'Exception', cls: 'bad', icon: '\u2716' },
  3: { text: 'Unmeasured', cls: 'none', icon: '\u25CB' },
  4: { text: 'Not evaluated', cls: 'none', icon: '\u2013' },
};

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

const main = () => document.getElementById('main');

function show(...nodes) {
  main().replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
}

function announce(text) {
  document.getElementById('status').textContent = text;
}

// A time in the viewer's zone, UTC on hover.
function when(ms) {
  if (!ms) return h('span', { class: 'hint' }, 'never');
  const d = new Date(Number(ms));
  if (isNaN(d)) return h('span', { class: 'hint' }, String(ms));
  return h('time', { datetime: d.toISOString(), title: 'UTC ' + d.toISOString().replace('.000', '') },
    d.toLocaleString());
}

function badge(cls, icon, text) {
  return h('span', { class: 'badge ' + cls }, h('span', { 'aria-hidden': 'true' }, icon), text);
}

function statusBadge(n) {
  const s = STATUS[n] || { text: 'Status ' + n, cls: 'none', icon: '?' };
  return badge(s.cls, s.icon, s.text);
}

function table(headers, rows, opts = {}) {
  return h('div', { class: 'tablewrap' },
    h('table', { 'aria-label': opts.label },
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col', class: x.cls }, x.text ?? x)))),
      h('tbody', {}, rows.length ? rows
        : h('tr', {}, h('td', { colspan: headers.length, class: 'hint' }, opts.empty || 'Nothing yet.')))));
}

function loading(what) {
  show(h('p', { class: 'hint', role: 'status' }, 'Loading ' + what + '\u2026'));
}

// An error box that says what happened: the request, the status, the code.
function errorBox(err, title) {
  return h('div', { class: 'alert', role: 'alert' },
    h('strong', {}, title || 'The request failed'), h('br'),
    err.status ? `HTTP ${err.status}${err.code ? ' \u00b7 ' + err.code : ''}: ` : '',
    err.message || String(err));
}

// ---------------------------------------------------------------- session and API

let session = null;   // {mode: 'ak', id, secret} | {mode: 'admin', token, account}

function loadSession() {
  try { session = JSON.parse(sessionStorage.getItem(SESSION_KEY)); } catch { session = null; }
}

function saveSession() {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function readAnswer(resp) {
  const text = await resp.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!resp.ok) {
    const code = body?.Code || body?.code || '';
    const msg = body?.Message || body?.detail || body?.title || text || resp.statusText;
    throw new ApiError(resp.status, code, msg);
  }
  return body;
}

// A vTPM action: signed with the AccessKey, or through the admin endpoint.
async function rpc(action, params = {}) {
  const clean = {};
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') clean[k] = String(v);
  let resp;
  if (session.mode === 'ak') {
    const body = await signedBody(session.id, session.secret, action, VERSION, clean);
    resp = await fetch('/', { method: 'POST', body, cache: 'no-store',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  } else {
    if (!session.account) throw new ApiError(0, '', 'choose an account first');
    const body = canonicalQuery({ ...clean, Action: action, Version: VERSION });
    resp = await fetch('/admin/vtpm/' + encodeURIComponent(session.account), {
      method: 'POST', body, cache: 'no-store',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: 'Bearer ' + session.token } });
  }
  return readAnswer(resp);
}

// An admin JSON endpoint.
async function admin(path, opts = {}) {
  const resp = await fetch(path, { ...opts, cache: 'no-store',
    headers: { ...(opts.headers || {}), Authorization: 'Bearer ' + session.token } });
  return readAnswer(resp);
}

const isAdmin = () => session?.mode === 'admin';
const missingAction = (e) => e instanceof ApiError && /^(InvalidAction|.*ActionNotFound|.*Action.*NotFound)/.test(e.code || '');

// ---------------------------------------------------------------- login

function renderLogin(message) {
  const akId = h('input', { id: 'ak-id', name: 'ak-id', autocomplete: 'username', required: true, spellcheck: 'false' });
  const akSecret = h('input', { id: 'ak-secret', name: 'ak-secret', type: 'password', autocomplete: 'current-password', required: true });
  const token = h('input', { id: 'admin-token', name: 'admin-token', type: 'password', autocomplete: 'current-password', required: true });
  const out = h('div', { role: 'alert' });
  // Try a credential with one harmless call; keep it only when it works.
  const login = (make, probe) => async (ev) => {
    ev.preventDefault();
    session = make();
    try {
      await probe();
    } catch (e) {
      session = null;
      out.replaceChildren(errorBox(e, 'Login failed'));
      return;
    }
    saveSession();
    start();
  };
  const akForm = h('form', { class: 'card', 'aria-labelledby': 'ak-title',
    onsubmit: login(() => ({ mode: 'ak', id: akId.value.trim(), secret: akSecret.value }),
      () => rpc('DescribeInstances', { PageSize: 1, PageNumber: 1 })) },
  h('h2', { id: 'ak-title' }, 'Account AccessKey'),
  h('p', { class: 'hint' }, 'Sees the instances, events and whitelists of the key\u2019s account. Requests are signed in this tab; the secret is never sent.'),
  h('label', { for: 'ak-id' }, 'AccessKey ID'), akId,
  h('label', { for: 'ak-secret' }, 'AccessKey secret'), akSecret,
  h('p', {}, h('button', { type: 'submit', class: 'primary', id: 'ak-login' }, 'Log in with AccessKey')));
  const adminForm = h('form', { class: 'card', 'aria-labelledby': 'admin-title',
    onsubmit: login(() => ({ mode: 'admin', token: token.value.trim(), account: '' }),
      () => admin('/admin/accesskeys')) },
  h('h2', { id: 'admin-title' }, 'Admin token'),
  h('p', { class: 'hint' }, 'Sees every account, the attestation history, collateral and policies.'),
  h('label', { for: 'admin-token' }, 'Admin token'), token,
  h('p', {}, h('button', { type: 'submit', class: 'primary', id: 'admin-login' }, 'Log in as admin')));
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  document.getElementById('logout').hidden = true;
  show(h('div', { class: 'login' }, h('h1', {}, 'Log in'),
    message ? h('div', { class: 'alert info' }, message) : null, out, akForm, adminForm,
    h('p', { class: 'hint' }, 'Credentials stay in this tab (sessionStorage) and are gone when it closes. No cookies are used.')));
  akId.focus();
}

function logout() {
  session = null;
  accountsCache = null;
  saveSession();
  location.hash = '';
  renderLogin('Logged out.');
}

// ---------------------------------------------------------------- routing

const pages = {};

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'instances', arg: parts[1], query: new URLSearchParams(query || '') };
}

function link(page, arg, query) {
  let s = '#/' + page + (arg ? '/' + encodeURIComponent(arg) : '');
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '' && v != null)).toString() : '';
  return q ? s + '?' + q : s;
}

async function route() {
  if (!session) return renderLogin();
  const r = parseHash();
  const page = pages[r.page] && (!pages[r.page].admin || isAdmin()) ? r.page : 'instances';
  for (const a of document.querySelectorAll('#nav a')) {
    a.hidden = a.hasAttribute('data-admin') && !isAdmin();
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    await pages[page].render(r);
  } catch (e) {
    show(h('h1', {}, pages[page].title), errorBox(e));
  }
  main().focus({ preventScroll: true });
}

function start() {
  document.getElementById('nav').hidden = false;
  const who = document.getElementById('who');
  who.hidden = false;
  who.textContent = session.mode === 'ak' ? 'AccessKey ' + session.id : 'Admin';
  document.getElementById('logout').hidden = false;
  announce('');
  route();
}

// ---------------------------------------------------------------- admin account picker

let accountsCache = null;

async function accountPicker(onchange) {
  if (!isAdmin()) return null;
  if (!accountsCache) {
    const list = await admin('/admin/accesskeys');
    accountsCache = [...new Set((list.accesskeys || []).map((k) => k.Account))].sort();
  }
  if (!session.account && accountsCache.length) {
    session.account = accountsCache[0];
    saveSession();
  }
  const sel = h('select', { id: 'account', onchange: () => {
    session.account = sel.value;
    saveSession();
    onchange();
  } }, accountsCache.map((a) => h('option', { value: a, selected: a === session.account }, a)));
  return h('div', {}, h('label', { for: 'account' }, 'Account'), sel);
}

// ---------------------------------------------------------------- instances

function parseJson(text, fallback) {
  if (text && typeof text === 'object') return text;
  try { return JSON.parse(text); } catch { return fallback; }
}

// PCR numbers that differ from the baseline, as the instance tells them.
function failingPcrs(inst) {
  const out = new Set();
  const ext = parseJson(inst.Extensions, {}) || {};
  for (const k of Object.keys(ext)) {
    const m = /^pcr(\d+)$/i.exec(k);
    if (m) out.add(Number(m[1]));
  }
  return [...out].sort((a, b) => a - b);
}

export function stageStates(inst) {
  const online = Number(inst.OnlineStatus) === 1;
  const st = Number(inst.SystemTrustStatus);
  if (!online || st === 3 || st === 4) return STAGES.map(() => 'none');
  if (st === 1) return STAGES.map(() => 'ok');
  const bad = failingPcrs(inst);
  let first = STAGES.findIndex((s) => s.pcrs.some((p) => bad.includes(p)));
  if (first < 0) first = 0;
  return STAGES.map((_, i) => (i < first ? 'ok' : i === first ? 'bad' : 'none'));
}

function stageBar(inst) {
  const states = stageStates(inst);
  const word = { ok: 'trusted', bad: 'exception', none: 'not measured' };
  const icon = { ok: '\u2714', bad: '\u2716', none: '\u2013' };
  const summary = STAGES.map((s, i) => `${s.name}: ${word[states[i]]}`).join('; ');
  const bar = h('div', { class: 'stages', role: 'img', 'aria-label': summary },
    STAGES.map((s, i) => h('span', { class: 'stage ' + states[i], title: `${s.name} (PCR${s.pcrs.join(', PCR')}): ${word[states[i]]}`,
      'data-state': states[i] }, icon[states[i]] + ' ' + s.name)));
  if (states.every((x) => x === 'none'))
    return h('div', {}, bar, h('div', { class: 'stagenote' }, 'Unmeasured \u00b7 last report ', when(inst.GmtRecentReport)));
  return bar;
}

function onlineBadge(inst) {
  return Number(inst.OnlineStatus) === 1 ? badge('ok', '\u25CF', 'Online') : badge('none', '\u25CB', 'Offline');
}

pages.instances = {
  title: 'Instances',
  async render(r) {
    loading('instances');
    const q = r.query;
    const pageNo = Math.max(1, parseInt(q.get('page') || '1', 10) || 1);
    const status = q.get('status') || '';
    const online = q.get('online') || '';
    const rerender = () => route();
    const picker = await accountPicker(rerender);
    if (isAdmin() && !session.account) {
      show(h('h1', {}, 'Instances'), h('div', { class: 'alert info' }, 'No account exists yet: create an AccessKey with POST /admin/accesskeys.'));
      return;
    }
    const go = (over) => { location.hash = link('instances', null, { status, online, page: 1, ...over }); };
    const statusSel = h('select', { id: 'f-status', onchange: () => go({ status: statusSel.value }) },
      h('option', { value: '' }, 'Any'),
      Object.entries(STATUS).map(([n, s]) => h('option', { value: n, selected: n === status }, s.text)));
    const onlineSel = h('select', { id: 'f-online', onchange: () => go({ online: onlineSel.value }) },
      h('option', { value: '' }, 'Any'),
      h('option', { value: '1', selected: online === '1' }, 'Online'),
      h('option', { value: '0', selected: online === '0' }, 'Offline (unmeasured)'));
    const filters = h('div', { class: 'row', role: 'search' }, picker,
      h('div', {}, h('label', { for: 'f-status' }, 'Trust status'), statusSel),
      h('div', {}, h('label', { for: 'f-online' }, 'Online status'), onlineSel));
    const ans = await rpc('DescribeInstances', { PageSize: PAGE_SIZE, PageNumber: pageNo,
      SystemTrustStatus: status, OnlineStatus: online });
    const list = ans.Instances || [];
    const total = Number(ans.TotalCount || 0);
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const rows = list.map((inst) => h('tr', { 'data-uuid': inst.PropertyUuid },
      h('td', {}, h('a', { href: link('instance', inst.PropertyUuid) }, inst.PropertyName || inst.PropertyUuid),
        h('div', { class: 'hint mono' }, inst.PropertyUuid)),
      h('td', {}, statusBadge(inst.SystemTrustStatus)),
      h('td', {}, stageBar(inst)),
      h('td', {}, onlineBadge(inst)),
      h('td', { class: 'hide-narrow' }, when(inst.GmtRecentReport))));
    show(h('h1', {}, 'Instances'), filters,
      h('p', { class: 'hint' }, `${total} instance${total === 1 ? '' : 's'}`),
      table(['Instance', 'Trust', 'Boot stages', 'Online', { text: 'Last report', cls: 'hide-narrow' }], rows,
        { label: 'Instances', empty: 'No instance matches.' }),
      h('nav', { class: 'pager', 'aria-label': 'Pages of instances' },
        h('button', { type: 'button', disabled: pageNo <= 1, onclick: () => go({ page: pageNo - 1 }) }, '\u2190 Previous'),
        h('span', {}, `Page ${pageNo} of ${pages}`),
        h('button', { type: 'button', disabled: pageNo >= pages, onclick: () => go({ page: pageNo + 1 }) }, 'Next \u2192')));
  },
};

// ---------------------------------------------------------------- instance detail

function pcrMap(detail) {
  const d = parseJson(detail, {}) || {};
  const out = {};
  for (const [k, v] of Object.entries(d)) {
    const m = /^pcr(\d+)$/i.exec(k);
    if (m) out[Number(m[1])] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

// Optional actions: an older server answers "no such action"; say so.
async function optional(action, params) {
  try {
    return { ok: true, value: await rpc(action, params) };
  } catch (e) {
    if (missingAction(e)) return { ok: false, missing: true };
    if (e.code === 'InvalidReport.NotFound') return { ok: false, noReport: true };
    return { ok: false, error: e };
  }
}

function unavailable(action, ans) {
  if (ans.missing) return `This server does not offer ${action}.`;
  if (ans.noReport) return 'No report has been accepted yet: there is no baseline.';
  return `${action} failed: ${ans.error.message}`;
}

function eventsOf(ans) {
  return ans?.Items || [];
}

// EventType: 1 a system (PCR) event, 2 a program (IMA) event.
const EVENT_TYPES = { 1: 'System', 2: 'Program' };
const isProgram = (e) => Number(e.EventType) === 2;

// DescribeBoot: the baseline (WhiteListDetail) and the last report's PCRs
// ({pcrN: {baseline, reported, match, Events?}}), by PCR number.
function bootBaseline(boot) {
  return pcrMap(boot?.WhiteListDetail);
}

function bootComparison(boot) {
  const out = {};
  for (const [k, v] of Object.entries(boot?.LastReport?.Pcrs || {})) {
    const m = /^pcr(\d+)$/i.exec(k);
    if (m && v && typeof v === 'object') out[Number(m[1])] = v;
  }
  return out;
}

// The UEFI events of the last report's event log that extended a differing
// PCR (DescribeBoot's LastReport.Pcrs.pcrN.Events), in a row under it.
function pcrEventsRow(pcr, evs, omitted) {
  return h('tr', { class: 'pcrevents', 'data-pcr-events': pcr },
    h('td', { colspan: 5 },
      h('p', { class: 'hint' }, `What extended PCR${pcr} in the last report\u2019s event log:`),
      h('table', { 'aria-label': `UEFI events of PCR${pcr}`, class: 'events' },
        h('thead', {}, h('tr', {}, ['#', 'Type', 'What', 'Digest (sha256)'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, evs.map((e) => h('tr', { 'data-event-num': e.EventNum },
          h('td', {}, String(e.EventNum ?? '')),
          h('td', { class: 'mono' }, e.Type || ''),
          h('td', {}, e.Description || h('span', { class: 'hint' }, '\u2013')),
          h('td', { class: 'mono digest' }, e.Digest || ''))))),
      omitted ? h('p', { class: 'hint' }, `and ${omitted} more event${omitted === 1 ? '' : 's'} not kept`) : null));
}

// One report of DescribeReports on the timeline: statuses, next IMA index,
// the PCRs that differed from the baseline.
function reportItem(rep) {
  const sys = STATUS[rep.SystemTrustStatus] || { text: String(rep.SystemTrustStatus ?? '\u2013'), cls: 'none', icon: '?' };
  const prog = STATUS[rep.ProgramTrustStatus];
  const pcrs = rep.DifferingPcrs || [];
  return { t: rep.GmtReport, cls: sys.cls, report: true, node: h('span', { 'data-report': rep.Seq },
    `report #${rep.Seq}: `, statusBadge(rep.SystemTrustStatus), ' system',
    prog ? [', ', statusBadge(rep.ProgramTrustStatus), ' program'] : null,
    ` \u00b7 next IMA index ${rep.NextClientIMAIndex ?? '\u2013'}`,
    pcrs.length ? [' \u00b7 ', h('span', { class: 'differs' }, 'differed: ' + pcrs.map((p) => 'PCR' + p).join(', '))] : ' \u00b7 matched the baseline',
    rep.Reboot ? ' (after a reboot)' : '') };
}

pages.instance = {
  title: 'Instance',
  async render(r) {
    loading('the instance');
    const uuid = r.arg;
    const inst = await rpc('DescribeInstance', { PropertyUuid: uuid });
    const rpage = Math.max(1, Number(r.query.get('reports')) || 1);
    const [boot, events, history] = await Promise.all([
      optional('DescribeBoot', { PropertyUuid: uuid }),
      optional('DescribeEvents', { PropertyUuid: uuid, PageSize: 100, CurrentPage: 1 }),
      optional('DescribeReports', { PropertyUuid: uuid, PageSize: REPORTS_PAGE, PageNumber: rpage }),
    ]);
    const reported = pcrMap(inst.SystemTrustDetail);
    const extension = pcrMap(inst.Extensions);
    const baseline = boot.ok ? bootBaseline(boot.value) : {};
    const comparison = boot.ok ? bootComparison(boot.value) : {};
    const rows = [];
    for (const st of STAGES)
      for (const p of st.pcrs) {
        const cmp = comparison[p] || {};
        const last = cmp.reported || extension[p] || reported[p] || '';
        const base = cmp.baseline || baseline[p] || '';
        const differs = cmp.match === false || extension[p] !== undefined || Boolean(base && last && base !== last);
        const evs = cmp.Events || [];
        rows.push(h('tr', { class: differs ? 'pcrbad' : '', 'data-pcr': p },
          h('th', { scope: 'row' }, 'PCR' + p),
          h('td', { class: 'hide-narrow' }, st.name),
          h('td', { class: 'mono' }, base || h('span', { class: 'hint' }, 'none')),
          h('td', { class: 'mono' }, last || h('span', { class: 'hint' }, 'none')),
          h('td', {}, differs ? badge('bad', '\u2716', 'differs') : base || last ? badge('ok', '\u2714', 'matches') : badge('none', '\u2013', 'unknown'))));
        if (evs.length) rows.push(pcrEventsRow(p, evs, Number(cmp.EventsOmitted) || 0));
      }
    const allEvents = events.ok ? eventsOf(events.value) : [];
    const program = allEvents.filter(isProgram);
    const kv = (pairs) => h('dl', { class: 'kv' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    const last = boot.ok ? boot.value.LastReport : null;
    const nextIma = last?.Ima?.Next ?? inst.NextClientIMAIndex;
    const reports = history.ok && !history.noReport ? history.value.Reports || [] : null;
    const lastItem = last ? { t: last.GmtReport, cls: Number(last.SystemTrustStatus) === 1 ? 'ok' : 'bad',
      text: `report ${boot.value.Reports ? '#' + boot.value.Reports + ' ' : ''}accepted: ${STATUS[last.SystemTrustStatus]?.text || last.SystemTrustStatus}${last.Ima?.Reboot ? ' (after a reboot)' : ''}` }
      : { t: inst.GmtRecentReport, cls: Number(inst.SystemTrustStatus) === 1 ? 'ok' : 'bad', text: 'last report' };
    const timeline = [
      ...allEvents.map((e) => ({ t: e.GmtCreate, cls: 'bad', text: `${EVENT_TYPES[e.EventType] || 'Event'} event opened: ${e.Suspect || e.EventUuid}` })),
      ...allEvents.filter((e) => Number(e.GmtHandle) > 0).map((e) => ({ t: e.GmtHandle, cls: 'ok',
        text: `${EVENT_TYPES[e.EventType] || 'Event'} event ${Number(e.EventStatus) === 2 ? 'trusted' : 'ignored'}: ${e.Suspect || e.EventUuid}` })),
      ...(reports ? reports.map(reportItem) : [lastItem]),
      boot.ok && boot.value.GmtCreate ? { t: boot.value.GmtCreate, cls: 'ok', text: 'baseline created' } : null,
      { t: inst.GmtCreate, cls: '', text: 'registered' },
    ].filter((x) => x && Number(x.t) > 0).sort((a, b) => Number(b.t) - Number(a.t) || (b.report ? 1 : 0) - (a.report ? 1 : 0));
    const total = reports ? Number(history.value.TotalCount) || 0 : 0;
    const pager = reports && total > REPORTS_PAGE ? h('nav', { class: 'pager', 'aria-label': 'Pages of reports' },
      rpage > 1 ? h('a', { href: link('instance', uuid, { reports: rpage - 1 }) }, '\u2190 Newer reports') : null,
      rpage * REPORTS_PAGE < total ? h('a', { href: link('instance', uuid, { reports: rpage + 1 }) }, 'Older reports \u2192') : null) : null;
    show(h('p', {}, h('a', { href: link('instances') }, '\u2190 Instances')),
      h('h1', {}, inst.PropertyName || inst.PropertyUuid),
      h('div', { class: 'card' }, kv([
        ['PropertyUuid', h('span', { class: 'mono' }, inst.PropertyUuid)],
        ['Instance', inst.InstanceId || '\u2013'],
        ['Addresses', [inst.PropertyPrivateIp, inst.PropertyPublicIp].filter(Boolean).join(', ') || '\u2013'],
        ['System trust', statusBadge(inst.SystemTrustStatus)],
        ['Program trust', [statusBadge(inst.ProgramTrustStatus), ' ', inst.ProgramWhiteListName || (Number(inst.ProgramWhiteListId) === -1 ? 'no program whitelist' : '')]],
        ['Boot stages', stageBar(inst)],
        ['Online', onlineBadge(inst)],
        ['Last report', when(inst.GmtRecentReport)],
        ['Reports accepted', boot.ok ? String(boot.value.Reports ?? '\u2013') : h('span', { class: 'hint' }, '\u2013')],
        ['nextClientIMAIndex', nextIma !== undefined ? h('span', { id: 'next-ima' }, String(nextIma)) : h('span', { class: 'hint' }, 'no report yet')],
      ])),
      h('h2', {}, 'Baseline against the last report'),
      boot.ok ? null : h('p', { class: 'hint' }, unavailable('DescribeBoot', boot)),
      table(['PCR', { text: 'Stage', cls: 'hide-narrow' }, 'Baseline', 'Last report', 'Result'], rows, { label: 'PCRs' }),
      h('h2', {}, 'IMA exceptions'),
      events.ok ? table(['File', 'Digest', 'Whitelist entry', 'Opened'], program.map((e) => h('tr', {},
        h('td', { class: 'mono' }, e.Suspect || ''), h('td', { class: 'mono' }, e.SuspectSig || ''),
        h('td', { class: 'mono' }, e.SuspectWhiteList || h('span', { class: 'hint' }, 'not in the whitelist')),
        h('td', {}, when(e.GmtCreate)))), { label: 'IMA exceptions', empty: 'No IMA exception.' })
        : h('p', { class: 'hint' }, unavailable('DescribeEvents', events)),
      h('h2', {}, 'Report history'),
      reports ? h('p', { class: 'hint' }, `${total} report${total === 1 ? '' : 's'} kept (--vtpm-keep-reports), newest first, with the events and the registration.`)
        : h('p', { class: 'hint' }, history.noReport ? 'No report has been accepted yet.' : unavailable('DescribeReports', history)),
      h('ol', { class: 'timeline', 'aria-label': 'Report history' }, timeline.map((x) =>
        h('li', { class: x.cls }, when(x.t), ' \u2014 ', x.node || x.text))),
      pager);
  },
};

// ---------------------------------------------------------------- events

let flash = '';   // the outcome of the last Trust or Ignore, shown once above the list

const confirmDialog = (text, okLabel) => new Promise((resolve) => {
  const d = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  d.returnValue = '';
  d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
  d.showModal();
});

pages.events = {
  title: 'Events',
  async render() {
    loading('events');
    const picker = await accountPicker(() => route());
    const ans = await optional('DescribeEvents', { EventStatus: 1, PageSize: 100, CurrentPage: 1 });
    if (!ans.ok) {
      show(h('h1', {}, 'Events'), picker,
        ans.missing ? h('div', { class: 'alert info' }, 'This server does not offer DescribeEvents yet: no events to show.')
          : errorBox(ans.error));
      return;
    }
    const items = eventsOf(ans.value).filter((e) => Number(e.EventStatus) === 1);
    const result = h('div', { id: 'event-result', 'aria-live': 'polite' },
      flash ? h('div', { class: 'alert ok', role: 'status' }, flash) : null);
    flash = '';
    const act = async (e, action, verb) => {
      const what = `${verb} ${(EVENT_TYPES[e.EventType] || '').toLowerCase()} event ${e.EventUuid} (${e.Suspect || ''} on ${e.PropertyName || e.PropertyUuid})?` +
        (action === 'TrustEvents' ? ' The reported values become the new whitelist.' : ' The whitelist stays as it is.');
      if (!(await confirmDialog(what, verb))) return;
      try {
        await rpc(action, { EventUuids: e.EventUuid });
        flash = `${verb}: event ${e.EventUuid} done (${e.Suspect || ''} on ${e.PropertyName || e.PropertyUuid}).`;
        announce(flash);
        route();
      } catch (err) {
        result.replaceChildren(errorBox(err, `${verb} failed`));
      }
    };
    const rows = items.map((e) => h('tr', { 'data-event': e.EventUuid },
      h('td', {}, badge(isProgram(e) ? 'warn' : 'bad', '\u26A0', EVENT_TYPES[e.EventType] || 'Event'),
        h('div', { class: 'hint mono' }, e.EventUuid)),
      h('td', {}, e.PropertyUuid ? h('a', { href: link('instance', e.PropertyUuid) }, e.PropertyName || e.PropertyUuid) : '\u2013'),
      h('td', { class: 'mono' }, e.Suspect || '', e.SuspectSig ? h('div', { class: 'hint' }, 'reported ' + e.SuspectSig) : null),
      h('td', { class: 'hide-narrow' }, when(e.GmtCreate)),
      h('td', {}, h('div', { class: 'row' },
        h('button', { type: 'button', class: 'primary', 'data-action': 'trust', onclick: () => act(e, 'TrustEvents', 'Trust') }, 'Trust'),
        h('button', { type: 'button', class: 'danger', 'data-action': 'ignore', onclick: () => act(e, 'IgnoreEvents', 'Ignore') }, 'Ignore')))));
    show(h('h1', {}, 'Events'), picker, result,
      h('p', { class: 'hint' }, 'Trust adds the reported value to the whitelist; Ignore closes the event and keeps the whitelist.'),
      table(['Event', 'Instance', 'What', { text: 'Opened', cls: 'hide-narrow' }, 'Action'], rows,
        { label: 'Open events', empty: 'No open event.' }));
  },
};

// ---------------------------------------------------------------- attestations

pages.attestations = {
  title: 'Attestations', admin: true,
  async render(r) {
    loading('the attestation history');
    const before = r.query.get('before') || '';
    const ans = await admin('/admin/attestations?limit=50' + (before ? '&before=' + encodeURIComponent(before) : ''));
    const rows = ans.attestations.map((a) => h('tr', { 'data-id': a.id },
      h('td', {}, when(a.time_ms)),
      h('td', {}, a.tee || '\u2013'),
      h('td', { class: 'mono' }, (a.policy_ids || []).join(', ') || 'default'),
      h('td', {}, a.allow === true ? badge('ok', '\u2714', 'Allow') : a.allow === false ? badge('bad', '\u2716', 'Deny')
        : badge('bad', '\u2716', 'Rejected')),
      h('td', {}, a.tcb_status || '\u2013'),
      h('td', { class: 'mono' }, a.error_code ? `${a.status} ${a.error_code}` : String(a.status))));
    show(h('h1', {}, 'Attestations'),
      h('p', { class: 'hint' }, ans.keep ? `The newest ${ans.keep} are kept (--keep-attestations). No evidence or token is stored.`
        : 'The history is off (--keep-attestations 0).'),
      table(['Time', 'TEE', 'Policies', 'Verdict', 'TCB status', 'Answer'], rows, { label: 'Attestations', empty: 'No attestation yet.' }),
      h('nav', { class: 'pager', 'aria-label': 'Pages of attestations' },
        before ? h('a', { href: link('attestations') }, '\u2190 Newest') : null,
        ans.next ? h('a', { href: link('attestations', null, { before: ans.next }) }, 'Older \u2192') : null));
  },
};

// ---------------------------------------------------------------- collateral

function expiryCell(iso, now) {
  if (!iso) return { cls: '', node: h('span', { class: 'hint' }, '\u2013') };
  const t = Date.parse(iso);
  if (t < now) return { cls: 'expired', node: [when(t), ' ', badge('bad', '\u2716', 'expired')] };
  if (t - now < 7 * DAY_MS) return { cls: 'expiring', node: [when(t), ' ', badge('warn', '\u26A0', 'within 7 days')] };
  return { cls: '', node: when(t) };
}

pages.collateral = {
  title: 'Collateral', admin: true,
  async render() {
    loading('collateral');
    const now = Date.now();
    const [col, rims, amd] = await Promise.all([admin('/admin/collateral'), admin('/admin/rim'),
      admin('/admin/collateral/amd')]);
    const docs = col.documents || [];
    const fmspcs = {};
    for (const d of docs) {
      const m = /^tcb\/([^/]+)\/([0-9A-Fa-f]{12})\//.exec(d.id);
      if (!m) continue;
      const key = m[1] + '/' + m[2].toUpperCase();
      if (!fmspcs[key] || Date.parse(d.next_update) < Date.parse(fmspcs[key].next_update)) fmspcs[key] = { tee: m[1], fmspc: m[2].toUpperCase(), ...d };
    }
    const fmRows = Object.values(fmspcs).map((f) => {
      const x = expiryCell(f.next_update, now);
      return h('tr', { class: x.cls }, h('td', { class: 'mono' }, f.fmspc), h('td', {}, f.tee), h('td', {}, x.node));
    });
    const otherRows = docs.filter((d) => !/^(tcb|amd)\//.test(d.id)).map((d) => {
      const x = expiryCell(d.next_update, now);
      return h('tr', { class: x.cls }, h('td', { class: 'mono' }, d.id), h('td', {}, x.node));
    });
    const rimRows = (rims.rims || []).map((r) => {
      const x = expiryCell(r.not_after, now);
      return h('tr', { class: x.cls }, h('td', { class: 'mono' }, r.id), h('td', {}, r.kind || ''), h('td', {}, r.version || ''), h('td', {}, x.node));
    });
    const chipRows = (amd.chips || []).map((c) => {
      const cert = expiryCell(c.not_after, now);
      const crl = expiryCell(c.crl_next_update, now);
      const t = c.tcb || {};
      return h('tr', { class: cert.cls || crl.cls, 'data-chip': c.hwid || c.id },
        h('td', {}, c.product || '\u2013'),
        h('td', { class: 'mono', title: c.hwid || '' }, c.hwid ? c.hwid.slice(0, 16) + (c.hwid.length > 16 ? '\u2026' : '') : c.id),
        h('td', { class: 'mono' }, [t.bootloader, t.tee, t.snp, t.microcode, t.fmc].filter((x) => x !== undefined).join('/')),
        h('td', {}, cert.node),
        h('td', {}, c.crl_next_update ? crl.node : h('span', { class: 'hint' }, 'no CRL stored')));
    });
    const soon = [...fmRows, ...otherRows, ...rimRows, ...chipRows].filter((r) => r.className).length;
    show(h('h1', {}, 'Collateral'),
      soon ? h('div', { class: 'alert', role: 'alert' }, `${soon} item${soon === 1 ? '' : 's'} expired or expiring within 7 days (highlighted).`) : null,
      h('h2', {}, 'Intel FMSPCs (TCB info)'),
      table(['FMSPC', 'TEE', 'nextUpdate'], fmRows, { label: 'FMSPCs', empty: 'No TCB info stored.' }),
      h('h2', {}, 'Other Intel collateral'),
      table(['Document', 'nextUpdate'], otherRows, { label: 'Other collateral', empty: 'None stored.' }),
      h('h2', {}, 'NVIDIA RIMs'),
      table(['RIM', 'Kind', 'Version', 'Expiry'], rimRows, { label: 'RIMs', empty: 'No RIM stored.' }),
      h('h2', {}, 'AMD chips'),
      h('p', { class: 'hint' }, 'The VCEKs stored (imported, or fetched from --amd-kds-url for evidence without one), with their product\u2019s CRL. The ASK and ARK are pinned.'),
      table(['Product', 'Chip (hwID)', 'TCB (bl/tee/snp/ucode[/fmc])', 'VCEK expiry', 'CRL nextUpdate'], chipRows,
        { label: 'AMD chips', empty: 'No AMD chip stored.' }));
  },
};

// ---------------------------------------------------------------- policies

function b64urlDecode(s) {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  return new TextDecoder().decode(Uint8Array.from(b, (c) => c.charCodeAt(0)));
}

function b64urlEncode(text) {
  let s = '';
  for (const b of new TextEncoder().encode(text)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// "ID.rego:LINE:COL: message" -> {line, col, message}
export function compileError(detail) {
  const m = /:(\d+):(\d+):\s*(.*)$/s.exec(detail || '');
  return m ? { line: Number(m[1]), col: Number(m[2]), message: m[3] } : null;
}

function codeView(text, errLine) {
  return h('pre', { class: 'code' }, text.split('\n').map((l, i) =>
    h('span', { class: i + 1 === errLine ? 'errline' : '' }, String(i + 1).padStart(4) + '  ' + l + '\n')));
}

pages.policies = {
  title: 'Policies', admin: true,
  async render(r) {
    loading('policies');
    const list = await admin('/policy');
    const viewing = r.arg;
    let view = null;
    if (viewing) {
      const p = await admin('/policy/' + encodeURIComponent(viewing));
      view = h('section', { 'aria-labelledby': 'view-title' },
        h('h2', { id: 'view-title' }, 'Policy ' + viewing),
        h('p', { class: 'hint mono' }, 'hash ' + p['policy-hash']), codeView(b64urlDecode(p.policy)));
    }
    const id = h('input', { id: 'p-id', required: true, pattern: '[A-Za-z0-9._\\-]{1,64}', spellcheck: 'false' });
    const text = h('textarea', { id: 'p-text', required: true, spellcheck: 'false' });
    const file = h('input', { id: 'p-file', type: 'file', accept: '.rego,text/plain', onchange: async () => {
      if (file.files[0]) {
        text.value = await file.files[0].text();
        if (!id.value) id.value = file.files[0].name.replace(/\.rego$/, '');
      }
    } });
    const out = h('div', { id: 'policy-result', 'aria-live': 'polite' });
    const form = h('form', { class: 'card', 'aria-labelledby': 'up-title', onsubmit: async (ev) => {
      ev.preventDefault();
      out.replaceChildren(h('p', { class: 'hint' }, 'Compiling\u2026'));
      try {
        const ans = await admin('/policy', { method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ policy_id: id.value.trim(), policy: b64urlEncode(text.value), type: 'rego' }) });
        out.replaceChildren(h('div', { class: 'alert ok', role: 'status' }, `Stored policy ${ans['policy-id']} (hash ${ans['policy-hash']}).`));
        setTimeout(() => { location.hash = link('policies', ans['policy-id']); }, 50);
      } catch (e) {
        const ce = compileError(e.message);
        out.replaceChildren(ce
          ? h('div', { class: 'alert', role: 'alert' }, h('strong', {}, `Line ${ce.line}, column ${ce.col}: `),
              h('span', { class: 'compile-error' }, `${ce.line}:${ce.col}: ${ce.message}`),
              h('p', {}, 'Nothing was stored.'), codeView(text.value, ce.line))
          : errorBox(e, 'Upload refused; nothing was stored'));
      }
    } },
    h('h2', { id: 'up-title' }, 'Upload a policy'),
    h('p', { class: 'hint' }, 'The policy is compiled before it is stored; an error names its line and column.'),
    h('label', { for: 'p-id' }, 'Policy id'), id,
    h('label', { for: 'p-file' }, 'Rego file (optional)'), file,
    h('label', { for: 'p-text' }, 'Rego text'), text,
    h('p', {}, h('button', { type: 'submit', class: 'primary', id: 'p-upload' }, 'Compile and store')), out);
    const rows = list.map((p) => h('tr', {},
      h('td', {}, h('a', { href: link('policies', p['policy-id']) }, p['policy-id'])),
      h('td', { class: 'mono hide-narrow' }, p['policy-hash'])));
    show(h('h1', {}, 'Policies'),
      table(['Policy', { text: 'Hash', cls: 'hide-narrow' }], rows, { label: 'Policies', empty: 'Only the built-in default policy.' }),
      view, form);
  },
};

// ---------------------------------------------------------------- start

window.addEventListener('hashchange', () => route());
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('logout').addEventListener('click', logout);
  loadSession();
  if (session) start();
  else renderLogin();
});
