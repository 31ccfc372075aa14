'use strict';
// Experiments on the dashboard: the list on the home page (above the loose
// models) and one experiment's page (`#experiment=<name>`): its variants,
// its decision and the decisions announced, the split check, and the
// chance to win and the rates over time. Loaded after app.js, whose
// helpers (api, timeChart, history, throttle, …) it uses; it redraws when
// an `applied` event names the experiment (its decision changed) or one of
// its variants (their counts changed).

// Experiment names follow the models' rule ([A-Za-z0-9_.-]); escaped anyway.
const EXPERIMENT_PAGE = 100;
Object.assign(state, {
  // The experiments listed (name → the list's entry), in the list's order.
  experiments: new Map(), experimentsNext: null,
  // The experiment whose page is open (from the hash), and its last answer.
  experiment: null, experimentDetail: null,
  experimentsTimer: { last: 0, timer: null, busy: false },
  experimentTimer: { last: 0, timer: null, busy: false, remember: {} },
});

// `#experiment=<name>`: that experiment's page; anything else: the home page.
function experimentFromHash() {
  const match = /^#experiment=(.+)$/.exec(decodeURIComponent(location.hash));
  const name = match ? match[1] : null;
  if (name !== state.experiment) {
    state.experimentDetail = null;
    state.experimentTimer.remember = {};
    $('#experiment-body').hidden = true;
  }
  state.experiment = name;
}

// Which sections show: the experiment's page, or the lists.
function showPage() {
  const on = Boolean(state.experiment);
  $('#experiment').hidden = !on;
  $('#experiments').hidden = on;
  $('#models').hidden = on;
  if (on) $('#comparison').hidden = true;
}

const statusBadge = (status) => `<span class="badge status-${esc(status)}">${esc(status)}</span>`;
const srmWarning = (srm) => (srm && srm.ok === false
  ? `<span class="warn srm" data-code="srm" title="sample ratio mismatch: the observed split is not the one asked for (p = ${plain(srm.p_value)})">⚠ split off<span class="sr">: sample ratio mismatch, p = ${plain(srm.p_value)}</span></span>`
  : '');
const bar = (p, label) => `<svg class="bar" viewBox="0 0 100 8" role="img" aria-label="${esc(label)} ${pct(p)}">` +
  `<rect class="bar-bg" width="100" height="8"></rect><rect class="bar-fg" width="${(100 * p).toFixed(2)}" height="8"></rect></svg>`;

// ---- the home page's list ----
function renderExperiments() {
  const list = [...state.experiments.values()];
  $('#experiment-rows').innerHTML = list.map((e) => `<tr data-experiment="${esc(e.name)}" data-status="${esc(e.status)}">` +
    `<th scope="row"><a href="#experiment=${encodeURIComponent(e.name)}">${esc(e.name)}</a></th>` +
    `<td class="kind">${esc(e.kind === 'ab' ? 'A/B' : e.kind || '')}</td>` +
    `<td class="status">${statusBadge(e.status)}</td>` +
    `<td class="leader">${esc(e.winner || e.leader || '—')}${e.winner ? ' (winner)' : ''}</td>` +
    `<td class="p-best">${e.p_best == null ? '—' : `${bar(e.p_best, 'chance to win')}${pct(e.p_best)}`}</td>` +
    `<td class="loss">${e.expected_loss == null ? '—' : plain(e.expected_loss)}</td>` +
    `<td class="warnings">${srmWarning(e.srm)}</td></tr>`).join('');
  $('#experiments-empty').hidden = list.length > 0;
  $('#more-experiments').hidden = !state.experimentsNext;
}

async function loadExperiments(after) {
  const page = await api(`/experiments?limit=${EXPERIMENT_PAGE}${after ? `&after=${encodeURIComponent(after)}` : ''}`);
  if (!after) state.experiments.clear();
  for (const e of page.experiments || []) state.experiments.set(e.name, e);
  state.experimentsNext = page.next || null;
  renderExperiments();
}

// Every variant of the experiments listed (and of the one open).
function experimentVariants() {
  const names = new Set();
  for (const e of state.experiments.values()) for (const v of e.variants || []) names.add(v);
  for (const v of openVariants()) names.add(v);
  return names;
}
const openVariants = () => {
  const detail = state.experimentDetail;
  return (detail && detail.definition && detail.definition.variants) || [];
};

// ---- one experiment's page ----
function facts(detail) {
  const d = detail.definition || {};
  const weights = d.weights ? d.weights.map((w, i) => `${d.variants[i]} ${pct(w)}`).join(', ') : null;
  const lens = d.window ?? d.window_ms ?? null;
  const halfLife = d.half_life ?? d.half_life_ms ?? null;
  const rows = [
    ['kind', d.kind === 'ab' ? 'A/B test' : d.kind === 'bandit' ? 'bandit' : d.kind],
    ['baseline', d.baseline || (d.variants || [])[0]],
    ['threshold (risk accepted)', d.threshold == null ? null : plain(d.threshold)],
    [d.kind === 'bandit' ? 'floor' : 'split asked', d.kind === 'bandit' ? (d.floor == null ? null : pct(d.floor)) : weights],
    ['window', lens == null ? null : typeof lens === 'number' ? duration(lens) : lens],
    ['half-life', halfLife == null ? null : typeof halfLife === 'number' ? duration(halfLife) : halfLife],
    ['defined', detail.defined_at ? when(detail.defined_at) : null],
  ];
  return rows.filter(([, v]) => v != null && v !== '').map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('');
}

function srmText(srm, kind) {
  if (!srm) return kind === 'bandit' ? 'No split check: a bandit moves its traffic on purpose.' : 'No split check yet.';
  return srm.ok
    ? `Split as asked: χ² ${plain(srm.chi_square)}, p = ${plain(srm.p_value)}.`
    : `⚠ Sample ratio mismatch: the observed split is not the one asked for (χ² ${plain(srm.chi_square)}, p = ${plain(srm.p_value)}). Check how traffic is assigned before trusting the result.`;
}

function renderExperiment(detail, decisions) {
  const d = detail.definition || {};
  const comparison = detail.comparison || { models: [], decision: {} };
  const decision = detail.decision || {};
  const stopped = detail.stopped;
  const winner = stopped ? stopped.variant : decision.winner || null;
  $('#experiment-name').textContent = detail.name;
  const statusEl = $('#experiment-status');
  statusEl.dataset.status = detail.status;
  statusEl.innerHTML = statusBadge(detail.status);
  $('#experiment-winner').textContent = winner
    ? `${stopped ? 'chosen' : 'winner'}: ${winner}` : `no winner yet (leader ${(comparison.decision || {}).best || '—'})`;
  $('#experiment-winner').dataset.winner = winner || '';
  $('#experiment-verdict').textContent = stopped
    ? `Stopped ${when(stopped.at)} with ${stopped.variant} chosen.` : (comparison.decision || {}).verdict || '';
  $('#experiment-facts').innerHTML = facts(detail);
  const srm = $('#experiment-srm');
  srm.textContent = srmText(detail.srm, d.kind);
  srm.classList.toggle('warn', Boolean(detail.srm && detail.srm.ok === false));
  srm.dataset.ok = detail.srm ? String(detail.srm.ok) : '';
  const total = comparison.models.reduce((sum, m) => sum + Number(m.n || 0), 0);
  const threshold = (comparison.decision || {}).threshold ?? d.threshold;
  $('#variants').innerHTML = comparison.models.map((m) => {
    const i = (d.variants || []).indexOf(m.name);
    const asked = d.weights && i >= 0 ? pct(d.weights[i]) : '—';
    const loss = threshold != null && m.expected_loss <= threshold ? 'under' : 'over';
    return `<tr data-variant="${esc(m.name)}" class="${m.name === winner ? 'winner' : ''}">` +
      `<th scope="row">${esc(m.name)}${m.name === (d.baseline || (d.variants || [])[0]) ? ' (baseline)' : ''}${m.name === winner ? ' ★' : ''}</th>` +
      `<td class="n">${count(m.n)}</td><td class="share">${total ? pct(Number(m.n) / total) : '—'} <span class="note">(asked ${asked})</span></td>` +
      `<td class="mean">${fmt(m.mean)}</td>` +
      `<td class="interval">[${fmt(m.interval_89[0], 3)}, ${fmt(m.interval_89[1], 3)}]</td>` +
      `<td class="p-best">${bar(m.p_best, `chance that ${m.name} is best`)}${pct(m.p_best)}</td>` +
      `<td class="loss ${loss}">${plain(m.expected_loss)}</td></tr>`;
  }).join('');
  $('#experiment-decisions').innerHTML = decisions.length ? decisions.map((e) => `<tr data-seq="${esc(e.seq)}">` +
    `<td>${esc(e.seq)}</td><td>${when(e.at)}</td><td>${statusBadge(e.status)}</td>` +
    `<td>${esc(e.from || '—')} → ${esc(e.to || '—')}</td>` +
    `<td>${e.p_best == null || e.p_best === '' ? '—' : pct(e.p_best)}</td>` +
    `<td>${e.expected_loss == null || e.expected_loss === '' ? '—' : plain(e.expected_loss)}</td></tr>`).join('')
    : '<tr><td colspan="6" class="note">No decision announced yet.</td></tr>';
  $('#experiment-body').hidden = false;
}

async function drawExperiment() {
  const name = state.experiment;
  if (!name) return;
  const note = $('#experiment-note');
  const path = `/experiments/${encodeURIComponent(name)}`;
  try {
    const [detail, decisions] = await Promise.all([
      api(path),
      api(`${path}/decisions?limit=20`).catch((error) => {
        if (error instanceof TokenNeeded) throw error;
        return { decisions: [] };
      }),
    ]);
    if (state.experiment !== name) return;
    state.experimentDetail = detail;
    const list = Array.isArray(decisions) ? decisions : decisions.decisions || decisions.events || [];
    renderExperiment(detail, list);
    note.textContent = '';
    await drawExperimentHistory(name, detail, list);
  } catch (error) {
    if (error instanceof TokenNeeded) throw error;
    if (state.experiment !== name) return;
    $('#experiment-body').hidden = true;
    $('#experiment-name').textContent = name;
    note.textContent = `Not available: ${error.message}`;
  }
}

// A point's standings as [{name, mean, interval_89, p_best, expected_loss, n}].
function standings(point) {
  const list = point.variants || point.models || [];
  return Array.isArray(list) ? list : Object.entries(list).map(([name, v]) => Object.assign({ name }, v));
}
const pointWinner = (p) => (p.decision && typeof p.decision === 'object' ? p.decision.winner : p.decision ?? p.winner) || null;

async function drawExperimentHistory(name, detail, decisions) {
  const target = $('#experiment-history');
  const note = $('#experiment-history-note');
  try {
    const { result, points, query } = await history(`/experiments/${encodeURIComponent(name)}/history`, null, state.experimentTimer.remember);
    if (state.experiment !== name) return;
    if (!points.length) { target.innerHTML = ''; note.textContent = '(no history yet)'; return; }
    const order = (detail.definition && detail.definition.variants) || result.variants || standings(points[0]).map((s) => s.name);
    const step = result.step_ms || state.intervalMs || 60_000;
    const t1 = Math.max(result.as_of ?? 0, points[points.length - 1].t);
    const t0 = Math.min(points[0].t, t1 - MIN_STEPS * step);
    const of = (p, v) => standings(p).find((s) => s.name === v);
    const color = (i) => PALETTE[i % PALETTE.length];
    // Where the decision changed: a mark on both charts.
    const marks = [];
    points.forEach((p, k) => {
      const before = k ? pointWinner(points[k - 1]) : null;
      if (pointWinner(p) !== before) marks.push({ t: p.t, text: pointWinner(p) ? `decided: ${pointWinner(p)}` : 'undecided' });
    });
    const pBest = timeChart({
      kind: 'p-best', height: 200, t0, t1, y0: 0, y1: 1, points: points.length, marks,
      yText: (v) => `${Math.round(v * 100)}%`,
      label: `Chance to win over log time of ${order.join(', ')}: ${points.length} points; last ` +
        order.map((v) => { const s = of(points[points.length - 1], v); return s ? `${v} ${pct(s.p_best)}` : v; }).join(', '),
      series: order.map((v, i) => ({
        name: v, color: color(i), dots: true,
        points: points.map((p) => { const s = of(p, v); return s && { t: p.t, y: s.p_best, title: `${v} at ${when(p.t)}: P(best) ${pct(s.p_best)}, expected loss ${plain(s.expected_loss)}` }; }).filter(Boolean),
      })),
    });
    const all = points.flatMap((p) => standings(p)).filter((s) => s.interval_89);
    let lo = Math.min(...all.map((s) => s.interval_89[0])), hi = Math.max(...all.map((s) => s.interval_89[1]));
    const padding = Math.max((hi - lo) * 0.08, 0.005);
    lo = Math.max(0, lo - padding); hi = Math.min(1, hi + padding);
    const rates = timeChart({
      kind: 'rates', height: 220, t0, t1, y0: lo, y1: hi, points: points.length, marks,
      label: `Rates (posterior means) of ${order.join(', ')} with their 89% bands over log time; last ` +
        order.map((v) => { const s = of(points[points.length - 1], v); return s ? `${v} ${fmt(s.mean, 3)}` : v; }).join(', '),
      series: order.map((v, i) => {
        const mine = points.map((p) => ({ t: p.t, s: of(p, v) })).filter((x) => x.s && x.s.interval_89);
        return {
          name: v, color: color(i), dots: true,
          band: mine.map((x) => ({ t: x.t, lo: x.s.interval_89[0], hi: x.s.interval_89[1] })),
          points: mine.map((x) => ({ t: x.t, y: x.s.mean, title: `${v} at ${when(x.t)}: ${fmt(x.s.mean, 4)} [${fmt(x.s.interval_89[0], 4)}, ${fmt(x.s.interval_89[1], 4)}]` })),
        };
      }),
    });
    const legend = order.map((v, i) => `<li><svg class="swatch" viewBox="0 0 12 12" aria-hidden="true"><rect width="12" height="12" rx="2" fill="${color(i)}"></rect></svg>${esc(v)}</li>`).join('');
    target.innerHTML = `<figure><figcaption>Chance to win over log time <span class="readout"></span></figcaption>${pBest}</figure>` +
      `<figure><figcaption>Rates with their 89% bands <span class="readout"></span></figcaption>${rates}</figure>` +
      `<ul class="legend" aria-label="variants">${legend}</ul>`;
    const rows = points.map((p) => ({ t: p.t, text: `${when(p.t)}: ` + standings(p).map((s) =>
      `${s.name} ${fmt(s.mean, 3)}, P(best) ${pct(s.p_best)}, loss ${plain(s.expected_loss)}`).join('; ') +
      (pointWinner(p) ? `; winner ${pointWinner(p)}` : '') }));
    target.querySelectorAll('svg.time-chart').forEach((svg) => { svg.dataset.query = query; hoverable(svg, rows, t0, t1); });
    note.textContent = `(${plural(points.length, 'point')}, step ${duration(step)}, to ${when(t1)}${decisions.length ? `, ${plural(decisions.length, 'decision')} announced` : ''})`;
  } catch (error) {
    if (error instanceof TokenNeeded) throw error;
    target.innerHTML = '';
    note.textContent = `— not available: ${error.message}`;
  }
}

// ---- routing and live updates ----
const guarded = (draw) => () => draw().catch((error) => {
  if (error instanceof TokenNeeded) { needToken(); return; }
  status(`error: ${error.message}`);
});
const drawList = guarded(() => loadExperiments(null));
const drawOpen = guarded(drawExperiment);
const scheduleExperiments = (now) => throttle(state.experimentsTimer, drawList, now);
const scheduleExperiment = (now) => throttle(state.experimentTimer, drawOpen, now);

// After the hash changed (or the page started): the page it names.
function routeExperiments() {
  experimentFromHash();
  showPage();
  if (state.experiment) {
    scheduleExperiment(true);
    $('#experiment-title').focus();
  } else {
    scheduleExperiments(true);
  }
}

// Everything again (start, resync, lens change): both views' data.
async function reloadExperiments() {
  experimentFromHash();
  showPage();
  // The list failing leaves the models' list working, and says why.
  await loadExperiments(null).then(() => { $('#experiments-note').textContent = ''; }, (error) => {
    if (error instanceof TokenNeeded) throw error;
    $('#experiments-note').textContent = `Experiments not available: ${error.message}`;
  });
  if (state.experiment) await drawExperiment();
}

// An `applied` event: redraw what it touches. The list when an experiment
// is named, one of its variants changed, or a model not seen before came
// (perhaps a new experiment's variant); the open page when it is named or
// one of its variants changed.
function experimentsNotice(notice) {
  const named = notice.experiments || [];
  const variants = experimentVariants();
  const touched = named.length > 0 || notice.models.some((m) => variants.has(m) || !state.models.has(m));
  if (touched) scheduleExperiments();
  if (state.experiment && (named.includes(state.experiment) || notice.models.some((m) => openVariants().includes(m)))) {
    scheduleExperiment();
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('#more-experiments').addEventListener('click', () => guard(loadExperiments(state.experimentsNext)));
});
