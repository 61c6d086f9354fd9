// hf-admin's page: polls the JSON API and draws tables and two uPlot charts.
// Text from the server is always set as textContent, never as HTML.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';

const REFRESH_MS = Number(new URLSearchParams(location.search).get('refresh')) || 3000;
const $ = (id) => document.getElementById(id);
const state = { pool: null, charts: {}, busy: false };

async function api(path, options) {
  const r = await fetch(path, { credentials: 'same-origin', cache: 'no-store', ...options });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((body.error && body.error.message) || `HTTP ${r.status}`);
  return body;
}

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    if (c instanceof Node) {
      const td = document.createElement('td');
      td.append(c);
      tr.append(td);
    } else {
      tr.append(el('td', c.text, c.attrs));
    }
  }
  return tr;
}

const num = (v, attrs) => ({ text: v === null || v === undefined ? '–' : v, attrs: { class: 'n', ...attrs } });
const fix = (v, d = 1) => (v === null || v === undefined ? '–' : Number(v).toFixed(d));
const ms = (s) => (s === null || s === undefined ? '–' : `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`);

function duration(s) {
  if (s === null || s === undefined) return 'not draining';
  if (s === 0) return '0 s';
  if (s < 90) return `${Math.ceil(s)} s`;
  if (s < 5400) return `${Math.ceil(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function showError(id, err) {
  const p = $(id);
  p.hidden = !err;
  p.textContent = err ? String(err.message || err) : '';
}

function chart(id, groups, pick) {
  const host = $(id);
  const times = new Set();
  for (const g of groups) for (const s of g.series) times.add(s[0]);
  const xs = [...times].sort((a, b) => a - b);
  const data = [xs.map((t) => t / 1000)];
  for (const g of groups) {
    const byT = new Map(g.series.map((s) => [s[0], pick(s)]));
    data.push(xs.map((t) => (byT.has(t) ? byT.get(t) : null)));
  }
  const key = groups.map((g) => g.pool).join(',');
  const width = Math.max(280, host.clientWidth || 480);
  let c = state.charts[id];
  if (c && c.key === key) {
    c.plot.setData(data);
    return;
  }
  if (c) c.plot.destroy();
  const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
  const series = [{}].concat(groups.map((g, i) => ({ label: g.pool, stroke: palette[i % palette.length], width: 2, spanGaps: true })));
  const plot = new uPlot({ width, height: 200, series, scales: { x: { time: true } }, axes: [{}, { size: 60 }] }, data, host);
  state.charts[id] = { plot, key };
}

async function refreshGroups() {
  try {
    const doc = await api('/api/groups');
    const rows = doc.groups.map((g) => {
      const parts = el('details');
      parts.append(el('summary', `${g.partitions.length} partitions`));
      const t = el('table', null, { class: 'inner' });
      t.append(row(['topic', 'partition', 'committed', 'end', 'lag', 'owner'].map((h) => ({ text: h }))));
      for (const p of g.partitions) {
        t.append(row([{ text: p.topic }, num(p.partition), num(p.committed < 0 ? '–' : p.committed), num(p.end), num(p.lag), { text: p.owner || '–' }]));
      }
      parts.append(t);
      const members = el('span', g.members, { 'data-testid': `members-${g.pool}`, title: g.owners.join('\n') });
      return row([
        { text: g.pool, attrs: { title: g.group } },
        { text: g.state, attrs: { 'data-testid': `state-${g.pool}` } },
        members,
        num(g.lag, { 'data-testid': `lag-${g.pool}` }),
        num(fix(g.consumed_per_s), { 'data-testid': `rate-${g.pool}` }),
        num(fix(g.produced_per_s)),
        num(duration(g.drain_s), { 'data-testid': `drain-${g.pool}` }),
        parts,
      ]);
    });
    fill($('groups').tBodies[0], rows);
    chart('chart-lag', doc.groups, (s) => s[1]);
    chart('chart-rate', doc.groups, (s) => s[2]);
    showError('groups-error', null);
  } catch (e) {
    showError('groups-error', e);
  }
}

async function refreshPools() {
  try {
    const doc = await api('/api/pools');
    fill($('pools').tBodies[0], doc.pools.map((p) => row([
      { text: p.pool },
      num(p.processed, { 'data-testid': `processed-${p.pool}` }),
      num(p.failed),
      num(p.retried),
      num(p.dead_lettered, { 'data-testid': `dead-${p.pool}` }),
      num(p.replayed),
      num(ms(p.p50_s)),
      num(ms(p.p95_s)),
      num(ms(p.p99_s)),
      { text: p.outage ? `${p.endpoints} (dependency away)` : p.endpoints },
    ])));
    const down = doc.endpoints.filter((e) => !e.up);
    $('endpoints').textContent = `${doc.endpoints.length} /metrics endpoints read` +
      (down.length ? `; not answering: ${down.map((e) => `${e.endpoint} (${e.error})`).join(', ')}` : '');
  } catch (e) {
    $('endpoints').textContent = String(e.message);
  }
}

function filterQuery() {
  const f = new FormData($('dlq-filter'));
  const q = new URLSearchParams();
  for (const k of ['schema', 'error']) if (f.get(k)) q.set(k, f.get(k));
  return q;
}

function dlqRows(rows) {
  return rows.map((r) => row([
    { text: r.dead_letter },
    { text: r.dead_lettered_at },
    { text: `${r.schema} v${r.version}` },
    { text: r.event_id, attrs: { class: 'mono' } },
    { text: r.error, attrs: { class: 'err' } },
    { text: `${r.origin_topic}[${r.origin_partition}]@${r.origin_offset}` },
    num(r.attempts),
    num(r.bytes),
  ]));
}

async function refreshDlq() {
  try {
    const doc = await api('/api/dlq');
    const tabs = doc.topics.map((t) => {
      const b = el('button', `${t.pool} (${t.records})`, { type: 'button', 'data-testid': `dlq-tab-${t.pool}`, 'data-pool': t.pool });
      if (t.pool === state.pool) b.classList.add('active');
      b.addEventListener('click', () => { state.pool = t.pool; hideReplay(); refreshDlq(); });
      return b;
    });
    $('dlq-topics').replaceChildren(...tabs);
    if (!state.pool && doc.topics.length) {
      const busy = doc.topics.find((t) => t.records > 0);
      state.pool = (busy || doc.topics[0]).pool;
    }
    if (!state.pool) return;
    const q = filterQuery();
    const rows = await api(`/api/dlq/${encodeURIComponent(state.pool)}?${q}`);
    fill($('dlq').tBodies[0], dlqRows(rows.rows));
    showError('dlq-error', null);
  } catch (e) {
    showError('dlq-error', e);
  }
}

function hideReplay() {
  $('replay').hidden = true;
  $('replay-confirm').value = '';
  $('replay-go').disabled = true;
}

function replayBody(dry) {
  const f = new FormData($('dlq-filter'));
  const body = { dry_run: dry };
  if (f.get('schema')) body.schema = f.get('schema');
  if (f.get('error')) body.error = f.get('error');
  if (!dry) body.confirm = $('replay-confirm').value;
  return JSON.stringify(body);
}

async function replay(dry) {
  const result = $('replay-result');
  try {
    const doc = await api(`/api/dlq/${encodeURIComponent(state.pool)}/replay`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: replayBody(dry),
    });
    const skipped = doc.skipped ? `; ${doc.skipped} already replayed, left out` : '';
    if (dry) {
      $('replay-summary').textContent = `Would replay ${doc.count} dead letter(s) of ${doc.pool}${skipped}.`;
      $('replay-summary').dataset.count = doc.count;
      $('replay').hidden = false;
      result.hidden = true;
    } else {
      hideReplay();
      result.hidden = false;
      result.textContent = `Replayed ${doc.count} dead letter(s) of ${doc.pool}${skipped}.`;
      result.dataset.count = doc.count;
      refreshDlq();
    }
  } catch (e) {
    result.hidden = false;
    result.textContent = `Replay failed: ${e.message}`;
  }
}

async function refreshHealth() {
  const box = $('deps');
  try {
    const doc = await api('/api/health');
    box.replaceChildren(...['kafka', 'postgres', 'redis'].map((k) => el('span', `${k} ${doc[k].ok ? `${doc[k].ms.toFixed(0)} ms` : 'DOWN'}`,
      { class: doc[k].ok ? 'pill ok' : 'pill down', title: doc[k].error, 'data-testid': `dep-${k}`, 'data-ok': String(doc[k].ok) })));
  } catch (e) {
    box.replaceChildren(el('span', `hf-admin: ${e.message}`, { class: 'pill down' }));
  }
}

async function refreshSchedules() {
  try {
    const doc = await api('/api/schedules');
    const l = doc.leader;
    $('leader').textContent = !doc.database ? 'database not reachable: last firings and leader unknown'
      : !l ? 'no scheduler has ever led this fleet'
      : `leader ${l.holder} (epoch ${l.epoch}), renewed ${l.renewed_at}${l.live ? '' : ' — lease EXPIRED: no scheduler leads'}`;
    fill($('schedules').tBodies[0], doc.schedules.map((s) => row([
      { text: s.name }, { text: s.cron, attrs: { class: 'mono' } }, { text: s.zone },
      { text: s.arg ? `${s.job}(${s.arg})` : s.job },
      { text: s.last ? `${s.last.scheduled_at} ${s.last.state}${s.last.manual ? ' (manual)' : ''}` : '–' },
      { text: s.next || '–' },
    ])));
  } catch (e) {
    $('leader').textContent = String(e.message);
  }
}

async function refresh() {
  if (state.busy) return;
  state.busy = true;
  await Promise.all([refreshGroups(), refreshPools(), refreshDlq(), refreshHealth(), refreshSchedules()]);
  $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  document.body.dataset.loaded = 'true';
  state.busy = false;
}

function start() {
  $('dlq-filter').addEventListener('submit', (e) => { e.preventDefault(); hideReplay(); refreshDlq(); });
  $('dry-run').addEventListener('click', () => replay(true));
  $('replay-cancel').addEventListener('click', hideReplay);
  $('replay-confirm').addEventListener('input', () => { $('replay-go').disabled = $('replay-confirm').value !== state.pool; });
  $('replay-go').addEventListener('click', () => replay(false));
  refresh();
  setInterval(refresh, REFRESH_MS);
}

start();
