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
const state = {
  models: new Map(), order: [], next: null, sort: 'name', dir: 1, filter: '', compare: [], events: null,
  // `window=24h`, `half_life=1d` or '' (all observations): the lens of the
  // summaries and the comparison.
  lens: '',
  // The model whose history is open, its panel (one element, kept across
  // renders) and the server's history interval once known.
  open: null, panel: null, intervalMs: null,
};
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
  $('#experiments').hidden = true;
  $('#experiment').hidden = true;
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
    await start();
  } catch (error) {
    $('#token-error').textContent = error instanceof TokenNeeded ? 'That token was refused.' : error.message;
  }
}

const fmt = (x, digits = 4) => Number(x).toFixed(digits);
// Counts: integers as they are, decayed (fractional) ones to 2 decimals.
const count = (x) => (x == null ? '—' : Number.isInteger(Number(x)) ? String(x) : Number(x).toFixed(2));
// `path` with the lens's parameter added.
const lensed = (path) => (state.lens ? `${path}${path.includes('?') ? '&' : '?'}${state.lens}` : path);
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
const WARNING_LABELS = { pinned_at_prior_edge: "pinned at its prior's edge", one_grid_point: 'on one grid point', lens: 'not under this lens' };
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

function chart(name, curve, lens) {
  const w = 160, h = 40;
  const [x0, x1] = span(curve);
  const x = (p) => ((p - x0) / (x1 - x0)) * w;
  const shown = curve.p.map((p, i) => i).filter((i) => curve.p[i] >= x0 && curve.p[i] <= x1);
  const top = Math.max(...shown.map((i) => Math.max(curve.posterior[i], curve.prior[i]))) || 1;
  const path = (ys) => shown.map((i, k) => `${k ? 'L' : 'M'}${x(curve.p[i]).toFixed(1)},${(h - (ys[i] / top) * (h - 2)).toFixed(1)}`).join('');
  const [lo, hi] = curve.pi_89;
  const label = `Posterior of ${name}${lens ? ' (of all observations)' : ''}: 89% interval ${fmt(lo, 3)} to ${fmt(hi, 3)}; prior dashed; p from ${fmt(x0, 2)} to ${fmt(x1, 2)}`;
  return `<svg class="curve${lens ? ' all-data' : ''}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${label}">` +
    `<rect class="interval" x="${x(lo).toFixed(1)}" y="0" width="${Math.max(x(hi) - x(lo), 1).toFixed(1)}" height="${h}"></rect>` +
    `<path class="prior" d="${path(curve.prior)}"></path><path class="posterior" d="${path(curve.posterior)}"></path></svg>`;
}

// The chart and interval of `model` (a summary from the list or the model's
// own route): one request for its curve.
async function withCurve(model) {
  const curve = await api(`/models/${encodeURIComponent(model.name)}/posterior?points=${CURVE_POINTS}`);
  // Under a lens the numbers are the lens's (the model's own route); the
  // curve is of every observation, and says so.
  const lens = model.lens || null;
  return {
    name: model.name, n: model.n, w: model.w, mean: model.mean,
    interval: lens ? model.pi_89 : curve.pi_89, lens,
    chart: chart(model.name, curve, lens), warnings: lens && model.warnings ? model.warnings : curve.warnings,
  };
}

// `null` for a model deleted meanwhile; any other failure is thrown on.
const unlessGone = (promise) => promise.catch((error) => {
  if (error.message.includes('unknown model')) return null;
  throw error;
});

// A model's numbers under the lens. A lens the model cannot answer (a
// window longer than its history) leaves its row without numbers and says
// why, rather than failing the whole list.
const lensedSummary = (name) => api(lensed(`/models/${encodeURIComponent(name)}`)).catch((error) => {
  if (!state.lens || error instanceof TokenNeeded || error.message.includes('unknown model')) throw error;
  return { name, n: null, w: null, mean: null, pi_89: null, lens: { unavailable: true }, warnings: [{ code: 'lens', message: error.message }] };
});

async function refreshModel(name) {
  const summary = await unlessGone(lensedSummary(name));
  const model = summary && await unlessGone(withCurve(summary));
  if (model) state.models.set(name, model); else state.models.delete(name);
}

function render() {
  const rows = [...state.models.values()]
    .filter((m) => m.name.includes(state.filter))
    .sort((a, b) => (a[state.sort] < b[state.sort] ? -1 : a[state.sort] > b[state.sort] ? 1 : 0) * state.dir);
  $('#rows').innerHTML = rows.map((m) => `<tr data-name="${m.name}" class="${state.open === m.name ? 'open' : ''}">` +
    `<td><input type="checkbox" aria-label="select ${m.name}" value="${m.name}" ${state.compare.includes(m.name) ? 'checked' : ''}></td>` +
    `<th scope="row"><button type="button" class="open-history" aria-expanded="${state.open === m.name}" aria-controls="history" title="history of ${m.name}">${m.name}</button></th>` +
    `<td class="n">${count(m.n)}</td><td class="w">${count(m.w)}</td><td class="mean">${m.mean == null ? '—' : fmt(m.mean)}</td>` +
    `<td>${m.interval ? `[${fmt(m.interval[0], 3)}, ${fmt(m.interval[1], 3)}]` : '—'}</td><td>${m.chart}</td>` +
    `<td class="warnings">${warnings(m.warnings)}</td></tr>`).join('');
  document.querySelectorAll('th button[data-sort]').forEach((b) => {
    b.closest('th').setAttribute('aria-sort', b.dataset.sort === state.sort ? (state.dir > 0 ? 'ascending' : 'descending') : 'none');
  });
  $('#more').hidden = !state.next;
  // The open history goes back under its row (the same element: its chart
  // is not redrawn by a render).
  const row = state.open && $(`#rows tr[data-name="${state.open}"]`);
  if (row && state.panel) row.after(state.panel);
  const lens = [...state.models.values()].map((m) => m.lens).find((l) => l && l.as_of != null);
  $('#lens-note').textContent = lens ? lensText(lens) : '';
}

async function loadPage(after) {
  const page = await api(`/models?limit=${PAGE}${after ? `&after=${encodeURIComponent(after)}` : ''}`);
  state.next = page.next;
  // The list carries n, w and the mean: one request a model, for its curve
  // (and one for its numbers under a lens).
  const models = await Promise.all(page.models.map((m) => unlessGone(state.lens
    ? lensedSummary(m.name).then(withCurve) : withCurve(m))));
  models.filter(Boolean).forEach((m) => state.models.set(m.name, m));
  render();
}

async function compare() {
  const names = state.compare;
  const section = $('#comparison');
  if (names.length < 2) { section.hidden = true; return; }
  section.hidden = false;
  try {
    const result = await api(lensed(`/compare?models=${names.map(encodeURIComponent).join(',')}`));
    const d = result.decision;
    $('#compare-lens').textContent = result.lens ? lensText(result.lens) : '';
    scheduleCompareHistory(result.lens);
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
    $('#compare-lens').textContent = '';
  }
}

// ---- Time: history, the chance to win over time, lenses ----------------
// Every time here is log time (the entries' ids, Unix ms), shown in UTC.

const DAY = 86_400_000;
const lensText = (lens) => (lens.window
  ? `counts of the last ${lens.window} of log time (since ${when(lens.since)} to ${when(lens.as_of)})`
  : `each observation weighted 2^(−age / ${lens.half_life}), as of ${when(lens.as_of)}`);
const pad2 = (x) => String(x).padStart(2, '0');
function when(ms, short) {
  const d = new Date(Number(ms));
  if (!Number.isFinite(d.getTime())) return '?';
  const day = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  return short === 'day' ? day.slice(5) : short === 'time' ? time : `${day} ${time} UTC`;
}
// A duration as the api reads it: `90s`, `5m`, `1h`, `2d`.
function duration(ms) {
  for (const [unit, size] of [['d', DAY], ['h', 3_600_000], ['m', 60_000], ['s', 1000]]) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
const NICE_STEPS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800]
  .map((s) => s * 1000);
// The step for `span` ms: a multiple of the interval, at most ~300 points.
function stepFor(span, interval) {
  const least = Math.max(span / HISTORY_POINTS, interval);
  const nice = NICE_STEPS.find((s) => s >= least && s % interval === 0);
  return nice || Math.ceil(least / interval) * interval;
}
const HISTORY_POINTS = 300;
// A chart spans at least this many steps (a young history is not one dot
// on the left edge: before its first point nothing was counted).
const MIN_STEPS = 30;
const plural = (k, word) => `${k} ${word}${k === 1 ? '' : 's'}`;
// How long after one redraw the next may come (live updates are throttled).
const REDRAW_MS = 1000;

// Ticks for a time axis: about `count` of them on round times.
function timeTicks(t0, t1, count) {
  const steps = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY];
  const step = steps.find((s) => (t1 - t0) / s <= count) || (t1 - t0) / count;
  const ticks = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  const label = (t) => (t1 - t0 > 300 * DAY ? when(t).slice(0, 10) : step >= DAY ? when(t, 'day') : (t % DAY === 0 || t === ticks[0]) ? `${when(t, 'day')} ${when(t, 'time')}` : when(t, 'time'));
  return ticks.map((t) => [t, label(t)]);
}
// Ticks for a value axis: about `count` round numbers between lo and hi.
function valueTicks(lo, hi, count) {
  const raw = (hi - lo) / count || 1;
  const unit = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * unit).find((s) => s >= raw);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}
const tickText = (v) => (Math.abs(v) >= 10_000 ? `${(v / 1000).toFixed(0)}k` : String(Number(v.toPrecision(6))));

// One time chart: `series` of [{t, y}] lines (each with an optional band
// of its colour), an optional band [{t, lo, hi}], y from y0 to y1, `marks`
// [{t, text}] drawn as labelled vertical lines; `kind` names it for styles and tests.
function timeChart({ kind, label, t0, t1, y0, y1, series, band, height, yText, points, marks }) {
  const { W, L, R } = CHART, H = height, T = 10, B = 22;
  const x = (t) => L + ((t - t0) / Math.max(t1 - t0, 1)) * (W - L - R);
  const y = (v) => T + (1 - (v - y0) / Math.max(y1 - y0, 1e-12)) * (H - T - B);
  const xy = (t, v) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`;
  let out = `<svg class="time-chart ${kind}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(label)}" data-points="${points}">`;
  out += `<title>${esc(label)}</title>`;
  for (const v of valueTicks(y0, y1, height > 120 ? 4 : 2)) {
    out += `<line class="grid" x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"></line>` +
      `<text class="tick" x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${(yText || tickText)(v)}</text>`;
  }
  for (const [t, text] of timeTicks(t0, t1, 6)) {
    out += `<line class="tick-mark" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${H - B}" y2="${H - B + 4}"></line>` +
      `<text class="tick" x="${x(t).toFixed(1)}" y="${H - 6}" text-anchor="${x(t) > W - R - 30 ? 'end' : x(t) < L + 30 ? 'start' : 'middle'}">${text}</text>`;
  }
  out += `<line class="axis" x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}"></line>`;
  out += `<line class="cursor" x1="0" x2="0" y1="${T}" y2="${H - B}"></line>`;
  if (band && band.length) {
    const upper = band.map((p) => xy(p.t, p.hi));
    const lower = band.map((p) => xy(p.t, p.lo)).reverse();
    out += `<path class="band" d="M${upper.join('L')}L${lower.join('L')}Z"></path>`;
  }
  for (const s of series) {
    if (!s.band || !s.band.length) continue;
    const upper = s.band.map((p) => xy(p.t, p.hi));
    const lower = s.band.map((p) => xy(p.t, p.lo)).reverse();
    out += `<path class="series-band" data-series="${esc(s.name)}" fill="${s.color}" d="M${upper.join('L')}L${lower.join('L')}Z"></path>`;
  }
  for (const m of marks || []) {
    out += `<line class="mark" x1="${x(m.t).toFixed(1)}" x2="${x(m.t).toFixed(1)}" y1="${T}" y2="${H - B}"><title>${esc(`${when(m.t)}: ${m.text}`)}</title></line>`;
  }
  series.forEach((s, i) => {
    if (!s.points.length) return;
    // A step line for counts (they change at the points), straight otherwise.
    const d = s.step
      ? s.points.map((p, k) => (k ? `H${x(p.t).toFixed(1)}V${y(p.y).toFixed(1)}` : `M${xy(p.t, p.y)}`)).join('')
      : `M${s.points.map((p) => xy(p.t, p.y)).join('L')}`;
    if (s.area) out += `<path class="area" d="${d}V${y(y0).toFixed(1)}H${x(s.points[0].t).toFixed(1)}Z"></path>`;
    out += `<path class="line" data-series="${esc(s.name)}" stroke="${s.color || PALETTE[i % PALETTE.length]}" d="${d}"></path>`;
    // The last counts hold until the answer's time: a dashed line to it.
    const end = s.points[s.points.length - 1];
    if (t1 > end.t) {
      out += `<path class="hold" stroke="${s.color || PALETTE[i % PALETTE.length]}" d="M${xy(end.t, end.y)}H${x(t1).toFixed(1)}"></path>`;
    }
    if (s.points.length <= 60 && s.dots) {
      out += s.points.map((p) => `<circle class="dot" cx="${x(p.t).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="2.5" fill="${s.color || PALETTE[i % PALETTE.length]}"><title>${esc(p.title || '')}</title></circle>`).join('');
    }
  });
  return `${out}</svg>`;
}
// Pointing at a chart reads the nearest point out (`rows`: {t, text}).
const CHART = { W: 960, L: 52, R: 12 };
function hoverable(svg, rows, t0, t1) {
  const readout = svg.closest('figure').querySelector('.readout');
  const cursor = svg.querySelector('.cursor');
  if (!readout || !cursor || !rows.length) return;
  const x = (t) => CHART.L + ((t - t0) / Math.max(t1 - t0, 1)) * (CHART.W - CHART.L - CHART.R);
  svg.addEventListener('pointermove', (e) => {
    const box = svg.getBoundingClientRect();
    const at = ((e.clientX - box.left) / box.width) * CHART.W;
    let best = rows[0];
    for (const row of rows) if (Math.abs(x(row.t) - at) < Math.abs(x(best.t) - at)) best = row;
    readout.textContent = best.text;
    cursor.setAttribute('x1', x(best.t).toFixed(1));
    cursor.setAttribute('x2', x(best.t).toFixed(1));
    cursor.classList.add('on');
  });
  svg.addEventListener('pointerleave', () => { readout.textContent = ''; cursor.classList.remove('on'); });
}
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

// Where a history starts: the window's start under a window, else the
// whole known history.
const windowSince = (lens) => (lens && lens.window ? lens.since : null);

// Points of a history route from `from` (or the start), with the step
// chosen so a few hundred come back; follows `next` a few times.
async function history(path, since, remember) {
  const url = (query) => (query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path);
  const ask = (step) => {
    const query = [since != null ? `from=${since}` : '', step ? `step=${duration(step)}` : ''].filter(Boolean).join('&');
    return { query, answer: api(url(query)) };
  };
  // The step of the last answer's span (it grows with the log), once the
  // interval is known; the first time, the api's own.
  let step = state.intervalMs && remember.span != null ? stepFor(remember.span, state.intervalMs) : null;
  let { query, answer } = ask(step);
  let result = await answer;
  if (result.interval_ms) state.intervalMs = result.interval_ms;
  // A history starts at its first point (`known_from` may be the epoch:
  // nothing was counted before the first point).
  const first = (result.points[0] || {}).t;
  const start = since != null ? since : first != null ? Math.max(first, result.known_from || 0) : result.known_from;
  const span = Math.max((result.as_of ?? 0) - (start ?? 0), 0);
  const interval = state.intervalMs || result.step_ms || 60_000;
  const wanted = stepFor(span, interval);
  // Asked too finely (or not at all, the first time): ask again with the step.
  if ((result.next || result.points.length > HISTORY_POINTS * 1.5) && wanted !== result.step_ms) {
    step = wanted;
    ({ query, answer } = ask(step));
    result = await answer;
  }
  remember.span = span;
  const points = [...result.points];
  for (let more = 0; result.next != null && more < 3; more += 1) {
    const next = await api(url(`from=${encodeURIComponent(result.next)}${step ? `&step=${duration(step)}` : ''}`));
    points.push(...next.points);
    result = Object.assign({}, result, { next: next.next, as_of: next.as_of ?? result.as_of });
  }
  return { result, points, query, start: start ?? (points[0] || {}).t };
}

// ---- one model's history, under its row ----
function historyPanel(name) {
  const row = document.createElement('tr');
  row.id = 'history';
  row.className = 'history';
  row.dataset.model = name;
  row.innerHTML = `<td colspan="8"><div class="history-head"><h3>History of ${name}</h3>` +
    '<span class="history-note note" role="status">loading…</span>' +
    `<button type="button" class="close-history" aria-label="close the history of ${name}">close</button></div>` +
    '<div class="history-charts"></div></td>';
  row.querySelector('.close-history').addEventListener('click', closeHistory);
  return row;
}

function openHistory(name) {
  if (state.open === name) { closeHistory(); return; }
  closeHistory();
  state.open = name;
  state.panel = historyPanel(name);
  state.historyTimer = { last: 0, timer: null, busy: false, remember: {} };
  render();
  scheduleHistory(true);
}

function closeHistory() {
  if (state.historyTimer && state.historyTimer.timer) clearTimeout(state.historyTimer.timer);
  if (state.panel) state.panel.remove();
  const name = state.open;
  state.open = null;
  state.panel = null;
  state.historyTimer = null;
  if (name) {
    render();
    const button = $(`#rows tr[data-name="${name}"] .open-history`);
    if (button) button.focus();
  }
}

// At most one redraw a REDRAW_MS, the last request always served.
function throttle(slot, draw, now) {
  if (!slot || slot.timer) return;
  const wait = now ? 0 : Math.max(0, slot.last + REDRAW_MS - Date.now());
  slot.timer = setTimeout(() => {
    slot.timer = null;
    if (slot.busy) { slot.again = true; return; }
    slot.busy = true;
    slot.last = Date.now();
    draw().finally(() => {
      slot.busy = false;
      if (slot.again) { slot.again = false; throttle(slot, draw); }
    });
  }, wait);
}

const scheduleHistory = (now) => throttle(state.historyTimer, () => drawHistory(state.open), now);

async function drawHistory(name) {
  const panel = state.panel;
  if (!panel || !name) return;
  const note = panel.querySelector('.history-note');
  const slot = state.historyTimer;
  try {
    const model = state.models.get(name);
    const since = windowSince(model && model.lens);
    const { result, points, query, start } = await history(`/models/${encodeURIComponent(name)}/history`, since, slot.remember);
    if (state.panel !== panel) return;
    const charts = panel.querySelector('.history-charts');
    if (!points.length) {
      charts.innerHTML = '';
      note.textContent = 'no history yet (points come at the end of each interval of log time with observations)';
      return;
    }
    const t1 = Math.max(result.as_of ?? 0, points[points.length - 1].t);
    const t0 = Math.min(start ?? points[0].t, points[0].t, t1 - MIN_STEPS * (result.step_ms || state.intervalMs || 60_000));
    let lo = Math.min(...points.map((p) => p.interval_89[0])), hi = Math.max(...points.map((p) => p.interval_89[1]));
    const padding = Math.max((hi - lo) * 0.08, 0.005);
    lo = Math.max(0, lo - padding); hi = Math.min(1, hi + padding);
    const last = points[points.length - 1];
    const rate = timeChart({
      kind: 'rate', height: 200, t0, t1, y0: lo, y1: hi, points: points.length,
      label: `Rate of ${name} (posterior mean) with its 89% band over log time, ${points.length} points from ${when(t0)} to ${when(t1)}; last ${fmt(last.mean, 3)} [${fmt(last.interval_89[0], 3)}, ${fmt(last.interval_89[1], 3)}]`,
      band: points.map((p) => ({ t: p.t, lo: p.interval_89[0], hi: p.interval_89[1] })),
      series: [{ name: 'mean', dots: true, points: points.map((p) => ({ t: p.t, y: p.mean,
        title: `${when(p.t)}: mean ${fmt(p.mean, 4)}, 89% [${fmt(p.interval_89[0], 4)}, ${fmt(p.interval_89[1], 4)}], n ${count(p.n)}` })) }],
    });
    const top = Math.max(...points.map((p) => Number(p.n))) || 1;
    const counts = timeChart({
      kind: 'count', height: 100, t0, t1, y0: 0, y1: top * 1.05, points: points.length,
      label: `Cumulative n of ${name} over log time: ${count(last.n)} at ${when(last.t)}`,
      series: [{ name: 'n', step: true, area: true, color: '#57606a', points: points.map((p) => ({ t: p.t, y: Number(p.n) })) }],
    });
    charts.innerHTML = `<figure><figcaption>rate, 89% band <span class="readout"></span></figcaption>${rate}</figure>` +
      `<figure><figcaption>cumulative n <span class="readout"></span></figcaption>${counts}</figure>`;
    const rows = points.map((p) => ({ t: p.t, text: `${when(p.t)}: mean ${fmt(p.mean, 4)} [${fmt(p.interval_89[0], 4)}, ${fmt(p.interval_89[1], 4)}], n ${count(p.n)}, w ${count(p.w)}` }));
    charts.querySelectorAll('svg.time-chart').forEach((svg) => hoverable(svg, rows, t0, t1));
    const drawn = charts.querySelector('.rate');
    drawn.dataset.query = query;
    drawn.dataset.lastN = String(last.n);
    note.textContent = `${plural(points.length, 'point')}, step ${duration(result.step_ms || state.intervalMs || 60_000)}, ` +
      `to ${when(t1)}; last: mean ${fmt(last.mean, 3)} [${fmt(last.interval_89[0], 3)}, ${fmt(last.interval_89[1], 3)}], n ${count(last.n)}, w ${count(last.w)}` +
      (result.next != null ? ' (cut: more points than shown)' : '');
  } catch (error) {
    if (state.panel !== panel) return;
    if (error instanceof TokenNeeded) { needToken(); return; }
    panel.querySelector('.history-charts').innerHTML = '';
    note.textContent = `no history: ${error.message}`;
  }
}

// ---- the chance to win over time, in the comparison ----
state.compareTimer = { last: 0, timer: null, busy: false, remember: {} };
function scheduleCompareHistory(lens) {
  const key = `${state.compare.join(',')}|${state.lens}`;
  if (state.compareTimer.key !== key) state.compareTimer.remember = {};
  state.compareTimer.key = key;
  state.compareTimer.lens = lens || null;
  throttle(state.compareTimer, drawCompareHistory);
}

async function drawCompareHistory() {
  const names = state.compare;
  const target = $('#compare-history-chart');
  const note = $('#compare-history-note');
  if (names.length < 2) { target.innerHTML = ''; return; }
  const key = state.compareTimer.key;
  try {
    const path = `/compare/history?models=${names.map(encodeURIComponent).join(',')}`;
    const since = windowSince(state.compareTimer.lens);
    const { result, points, query } = await history(path, since, state.compareTimer.remember);
    if (state.compareTimer.key !== key) return;
    if (!points.length) { target.innerHTML = ''; note.textContent = '(no history yet)'; return; }
    const order = result.models || names;
    const t1 = Math.max(result.as_of ?? 0, points[points.length - 1].t);
    const t0 = Math.min(since ?? points[0].t, points[0].t, t1 - MIN_STEPS * (result.step_ms || state.intervalMs || 60_000));
    const series = order.map((name, i) => ({
      name, color: PALETTE[i % PALETTE.length], dots: true,
      points: points.map((p) => {
        const m = (p.models || []).find((x) => x.name === name);
        return m && { t: p.t, y: m.p_best, title: `${name} at ${when(p.t)}: P(best) ${pct(m.p_best)}, expected loss ${plain(m.expected_loss)}, n ${count(m.n)}` };
      }).filter(Boolean),
    }));
    const last = points[points.length - 1];
    const chartHtml = timeChart({
      kind: 'p-best', height: 200, t0, t1, y0: 0, y1: 1, points: points.length, series,
      yText: (v) => `${Math.round(v * 100)}%`,
      label: `Chance to win over log time of ${order.join(', ')}: ${points.length} points; last ` +
        order.map((n) => { const m = (last.models || []).find((x) => x.name === n); return m ? `${n} ${pct(m.p_best)}` : n; }).join(', '),
    });
    const legend = order.map((n, i) => `<li><svg class="swatch" viewBox="0 0 12 12" aria-hidden="true"><rect width="12" height="12" rx="2" fill="${PALETTE[i % PALETTE.length]}"></rect></svg>${n}</li>`).join('');
    target.innerHTML = `${chartHtml}<ul class="legend" aria-label="models">${legend}</ul>`;
    hoverable(target.querySelector('svg.p-best'), points.map((p) => ({ t: p.t, text: `${when(p.t)}: ` +
      (p.models || []).map((m) => `${m.name} ${pct(m.p_best)} (loss ${plain(m.expected_loss)}, n ${count(m.n)})`).join(', ') })), t0, t1);
    target.querySelector('svg.p-best').dataset.query = query;
    note.textContent = `(${plural(points.length, 'point')}, step ${duration(result.step_ms || state.intervalMs || 60_000)}, to ${when(t1)})`;
  } catch (error) {
    if (error instanceof TokenNeeded) { needToken(); return; }
    target.innerHTML = '';
    note.textContent = `— not available: ${error.message}`;
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
    // Before the models are read: a model not seen before may be a new experiment's.
    experimentsNotice(notice);
    await Promise.all(notice.models.filter((n) => state.models.has(n) || !state.next).map(refreshModel));
    render();
    if (notice.models.includes(state.open)) scheduleHistory();
    if (notice.models.some((n) => state.compare.includes(n))) await compare();
  })()));
}

async function reload() {
  state.models.clear();
  await Promise.all([loadPage(null), reloadExperiments()]);
  if (state.open && !state.models.has(state.open)) closeHistory();
  if (state.open) scheduleHistory();
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
  state.lens = $('#lens').value;
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
  // A row opens its history (its name is the button, for the keyboard);
  // the checkbox only selects.
  $('#rows').addEventListener('click', (e) => {
    if (e.target.closest('input, #history')) return;
    const row = e.target.closest('tr[data-name]');
    if (row) openHistory(row.dataset.name);
  });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && state.open) closeHistory(); });
  $('#lens').addEventListener('change', (e) => {
    state.lens = e.target.value;
    if (state.historyTimer) state.historyTimer.remember = {};
    guard(reload());
  });
  $('#compare-selected').addEventListener('click', () => { location.hash = `compare=${state.compare.join(',')}`; });
  window.addEventListener('hashchange', () => { fromHash(); routeExperiments(); render(); guard(compare()); });
  guard(start());
});
