// The hookseal operator console. Everything shown comes from the admin API as JSON and is put
// into the page as text (never as HTML). The token lives in sessionStorage: this tab only.
'use strict';

const TOKEN_KEY = 'hookseal.adminToken';
// The statuses, as the Worker names them (states.js, generated from its code).
const STATES = window.HOOKSEAL_STATES ?? { events: [], deliveries: [], named: {} };
const S = STATES.named;
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
  await Promise.all([loadSources(), loadDestinations(), loadEvents()]);
  if (state.open !== null) await openEvent(state.open, false);
  $('live').textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${POLL_MS / 1000} s`;
}

async function loadSources() {
  const { sources, problem, atLeast: capped } = await api('sources');
  atLeast = new Set(capped ?? []);
  const box = $('sources');
  const select = $('f-source');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, 'All sources'), ...sources.map((s) => el('option', { value: s.name }, s.name)));
  select.value = chosen;
  if (problem) return box.replaceChildren(el('p', { class: 'error' }, `Configuration problem: ${problem}`));
  if (sources.length === 0) return box.replaceChildren(el('p', { class: 'muted' }, 'No sources are configured: add one under [vars.SOURCES] in wrangler.toml.'));
  box.replaceChildren(...sources.map(sourceCard));
}

async function loadDestinations() {
  const { destinations } = await api('destinations');
  const select = $('f-destination');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, 'All destinations'), ...destinations.map((d) => el('option', { value: d.name }, d.name)));
  select.value = chosen;
  $('destinations').replaceChildren(...destinations.map(destinationCard));
}

/** The states (retrying, queued, dead) whose counts are lower bounds (the admin API's `atLeast`). */
let atLeast = new Set();
/** `+` after a count the Worker stopped at its cap. */
const plus = (state) => (atLeast.has(state) ? '+' : '');
const count = (n, label, state) => el('div', {}, el('b', {}, `${n}${plus(state)}`), el('span', {}, label));

function destinationCard(d) {
  const t = d.last24h;
  const last = d.lastDelivery;
  return el('article', { class: 'card source', 'data-destination': d.name },
    el('h3', {}, d.name, d.problem ? badge('problem') : el('span', { class: 'badge ok' }, d.kind)),
    el('div', { class: 'muted small' }, d.host ?? '', d.sources.length ? ` · from ${d.sources.join(', ')}` : ' · no route yet'),
    d.problem ? el('p', { class: 'error' }, d.problem) : null,
    el('div', { class: 'counts' },
      count(t.delivered, S.DELIVERED), count(t.retrying, S.RETRYING, 'retrying'), count(t.dead, S.DEAD, 'dead')),
    t.queued ? el('div', { class: 'muted small' }, `${t.queued}${plus('queued')} queued, not attempted yet`) : null,
    el('div', { class: 'small' }, 'Last delivery: ',
      last ? [badge(last.status), ' ', when(last.at), last.httpStatus ? ` · HTTP ${last.httpStatus}` : '', last.error ? ` · ${last.error}` : '']
        : el('span', { class: 'muted' }, 'none yet')),
    d.gate ? gateLine(d) : null);
}

/** A gated destination's state (closed, open, half-open, paused), its queue, and pause/resume. */
function gateLine(d) {
  const g = d.gate;
  const held = g.state === 'open' || g.state === 'half-open' || g.state === 'paused';
  const facts = [`in flight ${g.inFlight ?? 0}`, `waiting ${g.waiting ?? 0}`, held ? `parked ${g.parked ?? 0}` : null,
    g.rate ? `rate ${g.rate}` : null, g.state === 'open' && g.probeAt ? `next probe ${when(g.probeAt)}` : null].filter(Boolean);
  const paused = g.state === 'paused';
  return el('div', { class: 'small gate', 'data-gate': g.state },
    el('span', { class: `badge ${held ? 'bad' : 'ok'}` }, g.state), ' ', facts.join(' · '), ' ',
    el('button', { type: 'button', onclick: () => pauseDestination(d.name, !paused) }, paused ? 'Resume' : 'Pause'));
}

async function pauseDestination(name, pause) {
  const what = pause ? 'Pause' : 'Resume';
  if (!confirm(`${what} ${name}? ${pause ? 'Its deliveries are kept (parked) until you resume it.' : 'Its parked deliveries go, oldest first.'}`)) return;
  try {
    await api(`destinations/${encodeURIComponent(name)}/${pause ? 'pause' : 'resume'}`, { method: 'POST' });
    $('live').textContent = `${what}d ${name}`;
    await refresh();
  } catch (e) {
    failed(e);
  }
}

function sourceCard(s) {
  const t = s.last24h;
  const refused = Object.entries(t.refused || {});
  const refusedTotal = refused.reduce((n, [, c]) => n + c, 0);
  const last = t.lastDelivery;
  return el('article', { class: 'card source', 'data-source': s.name },
    el('h3', {}, s.name, s.problem ? badge('problem') : el('span', { class: 'badge ok' }, 'ok')),
    el('div', { class: 'muted small' }, `${s.scheme} → ${s.routes.map((r) => r.to + (r.filtered ? ' (filtered)' : '')).join(', ') || 'nowhere'}`),
    s.problem ? el('p', { class: 'error' }, s.problem) : null,
    el('div', { class: 'counts' },
      count(t.accepted, 'accepted'), count(t.duplicates, 'duplicates'), count(refusedTotal, 'refused'),
      count(t.delivered, S.DELIVERED), count(t.retrying, S.RETRYING, 'retrying'), count(t.dead, S.DEAD, 'dead')),
    t.queued ? el('div', { class: 'muted small' }, `${t.queued}${plus('queued')} queued, not attempted yet`) : null,
    t.filtered ? el('div', { class: 'muted small' }, `${t.filtered} taken by no route (filtered)`) : null,
    refused.length ? el('div', { class: 'muted small' }, `Refused: ${refused.map(([c, n]) => `${c} ${n}`).join(', ')}`) : null,
    el('div', { class: 'small' }, 'Last delivery: ',
      last ? [badge(last.status), ' ', when(last.at), last.httpStatus ? ` · HTTP ${last.httpStatus}` : '', last.error ? ` · ${last.error}` : '']
        : el('span', { class: 'muted' }, 'none yet')),
    t.dead > 0 ? el('p', {}, el('button', { type: 'button', class: 'danger', onclick: () => replayAll(s.name, t.dead) }, `Replay all dead (${t.dead}${plus('dead')})`)) : null);
}

function filters() {
  const q = new URLSearchParams();
  for (const [k, id] of [['source', 'f-source'], ['destination', 'f-destination'], ['status', 'f-status'], ['type', 'f-type'], ['key', 'f-key']]) {
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
    el('td', {}, e.status === S.DEAD
      ? el('button', { type: 'button', onclick: (ev) => { ev.stopPropagation(); replayOne(e.id); } }, 'Replay')
      : ''))));
  const more = cursor !== null;
  const filtered = [...q.keys()].some((k) => k !== 'limit' && k !== 'cursor');
  // A page reads a window of the log: an empty page with more behind it says so.
  $('events-message').textContent = events.length ? ''
    : filtered && more ? 'No events match these filters among the newest: Older looks further back.'
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
  const deliveries = e.deliveries.map((d) => el('tr', { 'data-destination': d.destination },
    el('td', {}, d.destination), el('td', {}, badge(d.status)), el('td', {}, d.attempts), el('td', {}, when(d.lastAttemptAt)),
    el('td', {}, d.lastError || ''),
    el('td', {}, d.status === S.QUEUED || d.status === S.RETRYING ? ''
      : el('button', { type: 'button', onclick: () => replayOne(e.id, d.destination) }, 'Replay'))));
  $('deliveries').tBodies[0].replaceChildren(...deliveries);
  $('deliveries-empty').hidden = deliveries.length > 0;
  const rows = e.history.map((a) => el('tr', {}, el('td', {}, a.destination), el('td', {}, a.attempt), el('td', {}, when(a.at)), el('td', {}, a.status ?? '—'), el('td', {}, a.error || '')));
  $('attempts').tBodies[0].replaceChildren(...rows);
  $('attempts-empty').hidden = rows.length > 0;
  $('envelope').textContent = JSON.stringify(e.envelope, null, 2);
  showMedia(e.envelope?.message?.media);
  if (scroll) {
    $('detail-message').textContent = '';
    $('detail').scrollIntoView({ behavior: 'smooth', block: 'start' });
  }
}

/**
 * An archived file of the open event, through a fresh link (from this origin, whatever
 * PUBLIC_URL says): an image, an audio or video player, or a link; why not, when it failed.
 */
async function showMedia(media) {
  const box = $('media');
  box.hidden = !media || media.archived === undefined;
  box.replaceChildren();
  if (box.hidden) return;
  if (!media.archived) {
    box.append(el('p', { class: 'muted' }, `Media not archived: ${media.archiveError || 'unknown reason'}`));
    return;
  }
  const { key, contentType, size } = media.archived;
  try {
    const { url } = await api(`media/${key.split('/').map(encodeURIComponent).join('/')}`);
    const src = new URL(url);
    const local = src.pathname + src.search;
    const type = contentType || '';
    const view = type.startsWith('image/') && !type.includes('svg') ? el('img', { src: local, alt: `archived ${type}` })
      : type.startsWith('audio/') ? el('audio', { src: local, controls: true })
        : type.startsWith('video/') ? el('video', { src: local, controls: true })
          : null;
    box.append(el('p', { class: 'muted small' }, `Archived media: ${type}, ${size} bytes `,
      el('a', { href: local, target: '_blank', rel: 'noopener' }, 'open')), view);
  } catch (err) {
    failed(err);
    box.append(el('p', { class: 'muted' }, `Archived media ${key}: ${err.message}`));
  }
}

async function replayOne(id, destination) {
  const to = destination ? ` to ${destination}` : '';
  if (!confirm(`Deliver event ${id} again now${to}? The destination receives it once more.`)) return;
  try {
    const r = await api(`events/${id}/replay`, { method: 'POST', body: destination ? JSON.stringify({ destination }) : undefined });
    $('detail-message').textContent = r.replayed ? `Replayed: event ${id} is queued again${to}.`
      : r.inFlight ? 'Already on its way: nothing was added.' : 'Nothing was replayed.';
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
    const r = await api('replay', { method: 'POST', body: JSON.stringify({ source, status: S.DEAD }) });
    alert(`${r.replayed} events of ${source} are queued again${r.more ? '; more remain, replay again' : ''}.`);
    await refresh();
  } catch (e) {
    failed(e);
  }
}

async function testFilter() {
  const out = $('filter-result');
  out.className = '';
  let filter;
  try {
    filter = JSON.parse($('filter-text').value);
  } catch (e) {
    out.className = 'error';
    out.textContent = `Not JSON: ${e.message}`;
    return;
  }
  try {
    const r = await api('filters/test', { method: 'POST', body: JSON.stringify({ filter, eventId: state.open }) });
    out.className = r.matches ? 'matches' : 'nomatch';
    out.textContent = r.matches ? 'Matches: a route with this filter takes this event.' : 'No match: a route with this filter leaves this event.';
  } catch (e) {
    if (e instanceof Unauthorized) return failed(e);
    out.className = 'error';
    out.textContent = e.message;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  const statuses = $('f-status');
  statuses.append(...STATES.events.map((s) => el('option', { value: s }, s)));
  $('filter-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    testFilter();
  });
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
