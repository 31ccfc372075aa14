'use strict';
// The live dashboard: models with their posteriors, a comparison, and
// updates pushed by the api (Server-Sent Events) as bayes applies batches.

// Model names are [A-Za-z0-9_.-] (the api refuses any other), so they are
// written into the markup as they are.

// Anything that goes wrong is recorded here (the browser tests read it) and shown.
window.dashboardErrors = [];
window.addEventListener('error', (e) => window.dashboardErrors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.dashboardErrors.push(String(e.reason)));
for (const level of ['error', 'warn']) {
  const original = console[level].bind(console);
  console[level] = (...args) => { window.dashboardErrors.push(args.map(String).join(' ')); original(...args); };
}

const PAGE = 200;
// Points per chart: the api cuts a fine grid (10,001 points by default) to
// where the posterior's mass is and bins it, a few kB a model instead of 0.5 MB.
const CURVE_POINTS = 200;
const state = { models: new Map(), order: [], next: null, sort: 'name', dir: 1, filter: '', compare: [], events: null };
const $ = (selector) => document.querySelector(selector);

class TokenNeeded extends Error {}

async function api(path, options) {
  const response = await fetch(path, Object.assign({ credentials: 'same-origin' }, options));
  if (response.status === 401) throw new TokenNeeded();
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.error || `${path}: ${response.status}`);
  }
  return response.status === 204 ? null : response.json();
}

function status(text, on) {
  const live = $('#live');
  live.textContent = text;
  live.classList.toggle('on', Boolean(on));
}

function needToken() {
  $('#token').hidden = false;
  $('#models').hidden = true;
  $('#comparison').hidden = true;
  status('token needed');
  $('#token-input').focus();
}

async function openSession(event) {
  event.preventDefault();
  const input = $('#token-input');
  try {
    await api('/session', { method: 'POST', headers: { Authorization: `Bearer ${input.value}` } });
    input.value = '';
    $('#token-error').textContent = '';
    $('#token').hidden = true;
    $('#models').hidden = false;
    await start();
  } catch (error) {
    $('#token-error').textContent = error instanceof TokenNeeded ? 'That token was refused.' : error.message;
  }
}

const fmt = (x, digits = 4) => Number(x).toFixed(digits);
const pct = (x) => `${(100 * x).toFixed(1)}%`;
// `digits` significant digits as a plain decimal, never 8.2e-4: the rule of
// the api's verdicts (domain::plain_decimal), so the table and the verdict
// beside it print the same number.
function plain(value, digits = 3) {
  const x = Number(value);
  if (x === 0 || !Number.isFinite(x)) return x.toFixed(digits - 1);
  let exponent = Math.floor(Math.log10(Math.abs(x)));
  if (Math.round(Math.abs(x) / 10 ** (exponent - digits + 1)) >= 10 ** digits) exponent += 1;
  return x.toFixed(Math.min(100, Math.max(0, digits - 1 - exponent)));
}
const esc = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const WARNING_LABELS = { pinned_at_prior_edge: "pinned at its prior's edge", one_grid_point: 'on one grid point' };
// A model's warnings: a short label, the whole sentence on hover and for screen readers.
const warnings = (list) => (list || []).map((w) =>
  `<span class="warn" data-code="${esc(w.code)}" title="${esc(w.message)}">⚠ ${esc(WARNING_LABELS[w.code] || w.code)}<span class="sr">: ${esc(w.message)}</span></span>`).join(' ');

// The chart spans where the posterior's mass is (its 0.1% to 99.9% range,
// widened by half on each side), so a narrow A/B posterior is a readable
// curve, not a spike; the label says which range is shown.
function span(curve) {
  let total = 0, lo = 0, hi = 1;
  curve.posterior.forEach((mass, i) => {
    if (total < 0.001) lo = curve.p[i];
    total += mass;
    if (total <= 0.999) hi = curve.p[Math.min(i + 1, curve.p.length - 1)];
  });
  const pad = Math.max((hi - lo) / 2, 0.01);
  return [Math.max(0, lo - pad), Math.min(1, hi + pad)];
}

function chart(name, curve) {
  const w = 160, h = 40;
  const [x0, x1] = span(curve);
  const x = (p) => ((p - x0) / (x1 - x0)) * w;
  const shown = curve.p.map((p, i) => i).filter((i) => curve.p[i] >= x0 && curve.p[i] <= x1);
  const top = Math.max(...shown.map((i) => Math.max(curve.posterior[i], curve.prior[i]))) || 1;
  const path = (ys) => shown.map((i, k) => `${k ? 'L' : 'M'}${x(curve.p[i]).toFixed(1)},${(h - (ys[i] / top) * (h - 2)).toFixed(1)}`).join('');
  const [lo, hi] = curve.pi_89;
  const label = `Posterior of ${name}: 89% interval ${fmt(lo, 3)} to ${fmt(hi, 3)}; prior dashed; p from ${fmt(x0, 2)} to ${fmt(x1, 2)}`;
  return `<svg class="curve" viewBox="0 0 ${w} ${h}" role="img" aria-label="${label}">` +
    `<rect class="interval" x="${x(lo).toFixed(1)}" y="0" width="${Math.max(x(hi) - x(lo), 1).toFixed(1)}" height="${h}"></rect>` +
    `<path class="prior" d="${path(curve.prior)}"></path><path class="posterior" d="${path(curve.posterior)}"></path></svg>`;
}

// The chart and interval of `model` (a summary from the list or the model's
// own route): one request for its curve.
async function withCurve(model) {
  const curve = await api(`/models/${encodeURIComponent(model.name)}/posterior?points=${CURVE_POINTS}`);
  return {
    name: model.name, n: model.n, w: model.w, mean: model.mean, interval: curve.pi_89,
    chart: chart(model.name, curve), warnings: curve.warnings,
  };
}

// `null` for a model deleted meanwhile; any other failure is thrown on.
const unlessGone = (promise) => promise.catch((error) => {
  if (error.message.includes('unknown model')) return null;
  throw error;
});

async function refreshModel(name) {
  const summary = await unlessGone(api(`/models/${encodeURIComponent(name)}`));
  const model = summary && await unlessGone(withCurve(summary));
  if (model) state.models.set(name, model); else state.models.delete(name);
}

function render() {
  const rows = [...state.models.values()]
    .filter((m) => m.name.includes(state.filter))
    .sort((a, b) => (a[state.sort] < b[state.sort] ? -1 : a[state.sort] > b[state.sort] ? 1 : 0) * state.dir);
  $('#rows').innerHTML = rows.map((m) => `<tr data-name="${m.name}">` +
    `<td><input type="checkbox" aria-label="select ${m.name}" value="${m.name}" ${state.compare.includes(m.name) ? 'checked' : ''}></td>` +
    `<th scope="row">${m.name}</th><td class="n">${m.n}</td><td class="w">${m.w}</td><td class="mean">${fmt(m.mean)}</td>` +
    `<td>[${fmt(m.interval[0], 3)}, ${fmt(m.interval[1], 3)}]</td><td>${m.chart}</td>` +
    `<td class="warnings">${warnings(m.warnings)}</td></tr>`).join('');
  document.querySelectorAll('th button[data-sort]').forEach((b) => {
    b.closest('th').setAttribute('aria-sort', b.dataset.sort === state.sort ? (state.dir > 0 ? 'ascending' : 'descending') : 'none');
  });
  $('#more').hidden = !state.next;
}

async function loadPage(after) {
  const page = await api(`/models?limit=${PAGE}${after ? `&after=${encodeURIComponent(after)}` : ''}`);
  state.next = page.next;
  // The list carries n, w and the mean: one request a model, for its curve.
  const models = await Promise.all(page.models.map((m) => unlessGone(withCurve(m))));
  models.filter(Boolean).forEach((m) => state.models.set(m.name, m));
  render();
}

async function compare() {
  const names = state.compare;
  const section = $('#comparison');
  if (names.length < 2) { section.hidden = true; return; }
  section.hidden = false;
  try {
    const result = await api(`/compare?models=${names.map(encodeURIComponent).join(',')}`);
    const d = result.decision;
    $('#verdict').textContent = d.verdict;
    $('#warnings').innerHTML = result.models.flatMap((m) => (m.warnings || []).map((w) =>
      `<li data-model="${m.name}" data-code="${esc(w.code)}">${m.name}: ${esc(w.message)}</li>`)).join('');
    $('#compared').innerHTML = result.models.map((m) => {
      const vs = m.against_baseline;
      const loss = m.expected_loss <= d.threshold ? 'under' : 'over';
      return `<tr><th scope="row">${m.name}${vs ? '' : ' (baseline)'}</th>` +
        `<td><svg class="bar" viewBox="0 0 100 8" role="img" aria-label="P(best) ${pct(m.p_best)}"><rect class="bar-bg" width="100" height="8"></rect><rect class="bar-fg" width="${(100 * m.p_best).toFixed(2)}" height="8"></rect></svg>${pct(m.p_best)}</td>` +
        `<td class="${loss}">${plain(m.expected_loss)} (${loss} ${d.threshold})</td>` +
        `<td>${vs ? pct(vs.prob_beats_baseline) : '—'}</td>` +
        `<td>${vs ? `${fmt(vs.lift_mean)} [${fmt(vs.lift_interval_89[0])}, ${fmt(vs.lift_interval_89[1])}]` : '—'}</td></tr>`;
    }).join('');
  } catch (error) {
    if (error instanceof TokenNeeded) throw error;
    $('#verdict').textContent = error.message;
    $('#warnings').innerHTML = '';
    $('#compared').innerHTML = '';
  }
}

function fromHash() {
  const match = /^#compare=(.*)$/.exec(decodeURIComponent(location.hash));
  state.compare = match ? match[1].split(',').filter(Boolean) : [];
}

function listen() {
  if (state.events) return;
  const events = new EventSource('/events');
  state.events = events;
  events.onopen = () => status('live', true);
  events.onerror = () => status('reconnecting…');
  events.addEventListener('resync', () => guard(reload()));
  events.addEventListener('applied', (event) => guard((async () => {
    const notice = JSON.parse(event.data);
    if (notice.more) { await reload(); return; }
    await Promise.all(notice.models.filter((n) => state.models.has(n) || !state.next).map(refreshModel));
    render();
    if (notice.models.some((n) => state.compare.includes(n))) await compare();
  })()));
}

async function reload() {
  state.models.clear();
  await loadPage(null);
  await compare();
}

async function start() {
  const session = await api('/session');
  if (!session.reader) throw new TokenNeeded();
  fromHash();
  await reload();
  listen();
}

function guard(promise) {
  promise.catch((error) => {
    if (error instanceof TokenNeeded) { needToken(); return; }
    status(`error: ${error.message}`);
  });
}

document.addEventListener('DOMContentLoaded', () => {
  $('#token-form').addEventListener('submit', openSession);
  $('#filter').addEventListener('input', (e) => { state.filter = e.target.value; render(); });
  $('#more').addEventListener('click', () => guard(loadPage(state.next)));
  document.querySelectorAll('th button[data-sort]').forEach((b) => b.addEventListener('click', () => {
    state.dir = state.sort === b.dataset.sort ? -state.dir : 1;
    state.sort = b.dataset.sort;
    render();
  }));
  $('#rows').addEventListener('change', (e) => {
    const name = e.target.value;
    state.compare = e.target.checked ? [...state.compare, name] : state.compare.filter((n) => n !== name);
  });
  $('#compare-selected').addEventListener('click', () => { location.hash = `compare=${state.compare.join(',')}`; });
  window.addEventListener('hashchange', () => { fromHash(); render(); guard(compare()); });
  guard(start());
});
