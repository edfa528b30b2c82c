// The hookseal operator console. Everything shown comes from the admin API as JSON and is put
// into the page as text (never as HTML). The token lives in sessionStorage: this tab only.
'use strict';

const TOKEN_KEY = 'hookseal.adminToken';
const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes. */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function ago(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** A relative time with the exact time on hover. */
function when(ms) {
  if (ms === null || ms === undefined) return el('span', { class: 'muted' }, '—');
  return el('time', { datetime: new Date(ms).toISOString(), title: new Date(ms).toLocaleString() }, ago(ms));
}

const badge = (status) => el('span', { class: `badge ${status}` }, status);

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const res = await fetch(`/admin/${path}`, {
    ...options,
    headers: { authorization: `Bearer ${token}`, ...(options.body ? { 'content-type': 'application/json' } : {}) },
  });
  if (res.status === 401) throw new Unauthorized();
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || body.error || `HTTP ${res.status}`);
  return body;
}

const state = { cursors: [], cursor: null, next: null, open: null, timer: null };

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(state.timer);
  $('app').hidden = true;
  $('signout').hidden = true;
  $('live').textContent = '';
  $('signin').hidden = false;
  $('signin-message').textContent = message || '';
  $('token').value = '';
  $('token').focus();
}

async function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    await refresh();
  } catch (e) {
    if (e instanceof Unauthorized) return signOut('That token was refused. Check the Worker secret ADMIN_TOKEN.');
    return signOut(`Could not reach the admin API: ${e.message}`);
  }
  $('signin').hidden = true;
  $('app').hidden = false;
  $('signout').hidden = false;
  clearInterval(state.timer);
  state.timer = setInterval(() => refresh().catch(failed), POLL_MS);
}

function failed(e) {
  if (e instanceof Unauthorized) signOut('Your session ended: the token was refused (changed or expired). Sign in again.');
  else $('live').textContent = `Update failed: ${e.message}`;
}

async function refresh() {
  await Promise.all([loadSources(), loadEvents()]);
  if (state.open !== null) await openEvent(state.open, false);
  $('live').textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${POLL_MS / 1000} s`;
}

async function loadSources() {
  const { sources, problem } = await api('sources');
  const box = $('sources');
  const select = $('f-source');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, 'All sources'), ...sources.map((s) => el('option', { value: s.name }, s.name)));
  select.value = chosen;
  if (problem) return box.replaceChildren(el('p', { class: 'error' }, `Configuration problem: ${problem}`));
  if (sources.length === 0) return box.replaceChildren(el('p', { class: 'muted' }, 'No sources are configured: add one under [vars.SOURCES] in wrangler.toml.'));
  box.replaceChildren(...sources.map(sourceCard));
}

function sourceCard(s) {
  const t = s.last24h;
  const refused = Object.entries(t.refused || {});
  const refusedTotal = refused.reduce((n, [, c]) => n + c, 0);
  const count = (n, label) => el('div', {}, el('b', {}, n), el('span', {}, label));
  const last = t.lastDelivery;
  return el('article', { class: 'card source', 'data-source': s.name },
    el('h3', {}, s.name, s.problem ? badge('problem') : el('span', { class: 'badge ok' }, 'ok')),
    el('div', { class: 'muted small' }, `${s.scheme}${s.destination ? ` → ${s.destination}` : ' → outbox queue'}`),
    s.problem ? el('p', { class: 'error' }, s.problem) : null,
    el('div', { class: 'counts' },
      count(t.accepted, 'accepted'), count(t.duplicates, 'duplicates'), count(refusedTotal, 'refused'),
      count(t.delivered, 'delivered'), count(t.retrying, 'retrying'), count(t.dead, 'dead')),
    t.queued ? el('div', { class: 'muted small' }, `${t.queued} queued, not attempted yet`) : null,
    refused.length ? el('div', { class: 'muted small' }, `Refused: ${refused.map(([c, n]) => `${c} ${n}`).join(', ')}`) : null,
    el('div', { class: 'small' }, 'Last delivery: ',
      last ? [badge(last.status), ' ', when(last.at), last.httpStatus ? ` · HTTP ${last.httpStatus}` : '', last.error ? ` · ${last.error}` : '']
        : el('span', { class: 'muted' }, 'none yet')),
    t.dead > 0 ? el('p', {}, el('button', { type: 'button', class: 'danger', onclick: () => replayAll(s.name, t.dead) }, `Replay all dead (${t.dead})`)) : null);
}

function filters() {
  const q = new URLSearchParams();
  for (const [k, id] of [['source', 'f-source'], ['status', 'f-status'], ['type', 'f-type'], ['key', 'f-key']]) {
    const v = $(id).value.trim();
    if (v) q.set(k, v);
  }
  q.set('limit', '25');
  if (state.cursor !== null) q.set('cursor', String(state.cursor));
  return q;
}

async function loadEvents() {
  const q = filters();
  const { events, cursor } = await api(`events?${q}`);
  state.next = cursor;
  const tbody = $('events').tBodies[0];
  tbody.replaceChildren(...events.map((e) => el('tr', { class: 'clickable', 'data-id': e.id, onclick: () => openEvent(e.id) },
    el('td', {}, when(e.receivedAt)),
    el('td', {}, e.source),
    el('td', {}, e.type),
    el('td', { class: 'key' }, e.dedupKey),
    el('td', {}, badge(e.status)),
    el('td', {}, e.attempts),
    el('td', {}, e.status === 'dead'
      ? el('button', { type: 'button', onclick: (ev) => { ev.stopPropagation(); replayOne(e.id); } }, 'Replay')
      : ''))));
  const filtered = [...q.keys()].some((k) => k !== 'limit' && k !== 'cursor');
  $('events-message').textContent = events.length ? ''
    : filtered ? 'No events match these filters.'
      : state.cursor !== null ? 'No older events.'
        : 'No events yet. Point a provider at /webhooks/<source>, or send a signed sample with `npx hookseal send`.';
  $('older').hidden = cursor === null;
  $('newest').hidden = state.cursor === null;
}

async function openEvent(id, scroll = true) {
  const e = await api(`events/${id}`);
  state.open = id;
  $('detail').hidden = false;
  $('detail-title').textContent = `${e.source} · ${e.type}`;
  const facts = [['Id', e.id], ['Dedup key', e.dedupKey], ['Status', badge(e.status)], ['Attempts', e.attempts],
    ['Received', when(e.receivedAt)], ['Delivered', when(e.deliveredAt)], ['Last error', e.lastError || '—']];
  $('detail-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const rows = e.history.map((a) => el('tr', {}, el('td', {}, a.attempt), el('td', {}, when(a.at)), el('td', {}, a.status ?? '—'), el('td', {}, a.error || '')));
  $('attempts').tBodies[0].replaceChildren(...rows);
  $('attempts-empty').hidden = rows.length > 0;
  $('envelope').textContent = JSON.stringify(e.envelope, null, 2);
  if (scroll) {
    $('detail-message').textContent = '';
    $('detail').scrollIntoView({ behavior: 'smooth', block: 'start' });
  }
}

async function replayOne(id) {
  if (!confirm(`Deliver event ${id} again now? The destination receives it once more.`)) return;
  try {
    const r = await api(`events/${id}/replay`, { method: 'POST' });
    $('detail-message').textContent = r.replayed ? `Replayed: event ${id} is queued again.` : 'Nothing was replayed.';
    $('live').textContent = `Replayed event ${id}`;
    await refresh();
  } catch (e) {
    failed(e);
    $('detail-message').textContent = `Replay failed: ${e.message}`;
  }
}

async function replayAll(source, dead) {
  if (!confirm(`Deliver all ${dead} dead events of ${source} again now?`)) return;
  try {
    const r = await api('replay', { method: 'POST', body: JSON.stringify({ source, status: 'dead' }) });
    alert(`${r.replayed} events of ${source} are queued again${r.more ? '; more remain, replay again' : ''}.`);
    await refresh();
  } catch (e) {
    failed(e);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    signIn($('token').value.trim());
  });
  $('signout').addEventListener('click', () => signOut('Signed out.'));
  $('filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.cursor = null;
    state.cursors = [];
    loadEvents().catch(failed);
  });
  $('older').addEventListener('click', () => {
    state.cursors.push(state.cursor);
    state.cursor = state.next;
    loadEvents().catch(failed);
  });
  $('newest').addEventListener('click', () => {
    state.cursor = null;
    state.cursors = [];
    loadEvents().catch(failed);
  });
  $('detail-close').addEventListener('click', () => {
    state.open = null;
    $('detail').hidden = true;
  });
  $('detail-replay').addEventListener('click', () => state.open !== null && replayOne(state.open));
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) signIn(token);
  else signOut('');
});
